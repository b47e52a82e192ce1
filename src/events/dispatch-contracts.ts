import type { EventContext } from './event-context.ts'
import type { RegisteredListener } from './types.ts'

/** What `Event.fake()` installs: one guard at the top of the single dispatch path. */
export interface DispatchInterceptor {
  /** Records the dispatch; returns true when the event is faked (listeners must not run). */
  intercept(eventName: string, event: unknown): boolean
}

/**
 * Where queued listeners go: the queue manager installs one. Without it a queued listener
 * runs in the dispatch, as on the `sync` connection.
 */
export interface QueuedListenerGateway {
  push(listener: RegisteredListener, eventName: string, event: unknown): Promise<unknown>
  /** Queues a whole ShouldQueue event; a worker dispatches it with `dispatchNow`. */
  pushEvent(eventName: string, event: object): Promise<unknown>
}

/**
 * Where ShouldBroadcast events go: the broadcast manager installs one. Without it a broadcast
 * event only reaches its listeners.
 */
export interface BroadcastGateway {
  /** Broadcasts the event: queued for ShouldBroadcast, at once for ShouldBroadcastNow. */
  broadcast(eventName: string, event: object): Promise<unknown>
}

/**
 * Where ShouldPublish events go: the event bus installs one. Without it a published event only
 * reaches its listeners in this process.
 */
export interface PublishGateway {
  /**
   * True when `event` is to be published (a ShouldPublish event), once per `dispatch`: the
   * dispatcher asks again when a ShouldDispatchAfterCommit event comes back at its commit.
   */
  claims(dispatch: object, event: object | string): boolean
  /**
   * Publishes the event to the bus (inside a transaction: into the outbox, with it) while
   * `local` (its listeners here) runs; resolves to what `local` resolves to once both are done,
   * and rejects if either failed.
   */
  publishEvent(eventName: string, event: object, local: Promise<unknown>): Promise<unknown>
}

/** What instrumentation (the event store, metrics, tracing) sees of one dispatch. */
export interface DispatchRecord {
  /** A ULID, new for each dispatch. */
  readonly id: string
  readonly name: string
  /** The event object, or the payload of a string event. */
  readonly event: unknown
  readonly correlationId: string
  readonly causationId: string | null
  readonly occurredAt: Date
  /** True while `event:replay` re-dispatches a stored event. */
  readonly replaying: boolean
  /**
   * True when a worker runs the listeners of a queued ShouldQueue event: it was dispatched
   * (and seen by the instrumentation) in the process that queued it, under this same id.
   */
  readonly redispatch: boolean
}

/**
 * Instrumentation around dispatches, installed with `events.use(...)`: the event store,
 * metrics, tracing. Without any, the dispatcher takes its plain path and pays nothing.
 */
export interface EventMiddleware {
  /** Names the middleware in errors. */
  readonly name: string
  /**
   * Runs before anything happens to the event: its listeners, queueing, broadcasting, holding
   * it for a commit. What it throws follows the dispatcher's error policy: with `onError` set
   * the handler gets it and the dispatch goes on; otherwise the dispatch rejects and nothing runs.
   */
  dispatching?(record: DispatchRecord): void | Promise<void>
  /** The context the event's listeners run in (e.g. with the tracing span in `trace`). */
  context?(record: DispatchRecord, context: EventContext): EventContext
  /** Around each listener run in this process: must call `run()` and return what it returns. */
  listener?(record: DispatchRecord, listener: RegisteredListener, run: () => unknown): unknown
  /** Once the dispatch has settled; `error` is its rejection, or null. */
  dispatched?(record: DispatchRecord, error: unknown): void
}
