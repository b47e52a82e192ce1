import { ulid } from '../foundation/ulid.ts'
import type { DispatchRecord, EventMiddleware } from './dispatch-contracts.ts'
import { currentEventContext, withEventContext, type EventContext } from './event-context.ts'
import type { RegisteredListener } from './types.ts'

/** A dispatch under instrumentation: its record and the context its listeners run in. */
export interface Trace {
  readonly record: DispatchRecord
  readonly context: EventContext
}

/** Hands a failed `dispatching` hook to the dispatcher's error policy: the error to throw, or undefined when `onError` took it. */
export type HookFailure = (error: unknown, event: unknown, source: RegisteredListener) => Promise<unknown>

/**
 * The middleware installed with `events.use(...)` (the event store, metrics, tracing), and how
 * it wraps a dispatch and each listener. Without any, the dispatcher never comes here.
 */
export class DispatchInstrumentation {
  private installed: readonly EventMiddleware[] = []

  constructor(private readonly hookFailed: HookFailure) {}

  /** True when middleware is installed: the one check the plain path makes. */
  get active(): boolean {
    return this.installed.length > 0
  }

  /** Installs middleware (after those installed before); the result removes it. */
  use(middleware: EventMiddleware): () => void {
    this.installed = [...this.installed, middleware]
    return () => {
      this.installed = this.installed.filter((installed) => installed !== middleware)
    }
  }

  /**
   * Around one dispatch: a record (id, correlation, causation), the `dispatching` hooks (the
   * store writes here, inside the caller's transaction), then `run` in the event's context,
   * then the `dispatched` hooks. `redispatching` is a worker running a queued event's listeners:
   * it keeps the id the event was queued under.
   */
  async around(name: string, event: unknown, redispatching: boolean, run: (trace: Trace) => Promise<unknown>): Promise<unknown> {
    const middleware = this.installed
    const trace = this.start(name, event, redispatching, middleware)
    let error: unknown = null
    try {
      for (const installed of middleware) {
        if (installed.dispatching === undefined) continue
        try {
          await installed.dispatching(trace.record)
        } catch (failure) {
          const unhandled = await this.hookFailed(failure, event, hookSource(installed, name))
          if (unhandled !== undefined) throw unhandled
        }
      }
      return await withEventContext(trace.context, () => run(trace))
    } catch (failure) {
      error = failure
      throw failure
    } finally {
      for (const installed of middleware) installed.dispatched?.(trace.record, error)
    }
  }

  /** One listener in its event's context, wrapped by the middleware's `listener` hooks, first installed outermost. */
  listener(trace: Trace, listener: RegisteredListener, invoke: () => unknown): unknown {
    const middleware = this.installed
    let run = invoke
    for (let i = middleware.length - 1; i >= 0; i--) {
      const hook = middleware[i]!.listener
      if (hook === undefined) continue
      const inner = run
      run = () => hook.call(middleware[i], trace.record, listener, inner)
    }
    return withEventContext(trace.context, run)
  }

  private start(name: string, event: unknown, redispatching: boolean, middleware: readonly EventMiddleware[]): Trace {
    const parent = currentEventContext()
    // A worker running a queued event's listeners restored the context the event was queued in.
    const redispatch = redispatching && parent !== undefined && parent.eventId !== null
    const id = redispatch ? parent.eventId! : ulid()
    const record: DispatchRecord = {
      id,
      name,
      event,
      correlationId: redispatch ? parent.correlationId : (parent?.correlationId ?? id),
      causationId: redispatch ? parent.causationId : (parent?.eventId ?? null),
      occurredAt: new Date(),
      replaying: parent?.replaying ?? false,
      redispatch,
    }
    let context: EventContext = { eventId: id, correlationId: record.correlationId, causationId: record.causationId, replaying: record.replaying, trace: parent?.trace }
    for (const installed of middleware) {
      if (installed.context !== undefined) context = installed.context(record, context)
    }
    return { record, context }
  }
}

/** How a middleware appears to `onError` when its `dispatching` hook fails. */
function hookSource(middleware: EventMiddleware, eventName: string): RegisteredListener {
  return { event: eventName, name: middleware.name, listener: middleware, method: 'dispatching', wildcard: false, queued: false }
}
