import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Where a piece of code stands in a chain of events: the event being handled, the chain's
 * correlation id (the first event's id, or what a request or job brought in) and the event that
 * caused this one. Carried through nested dispatches and into queued jobs.
 */
export interface EventContext {
  /** The id (a ULID) of the event whose listeners are running. */
  readonly eventId: string | null
  /** One id for the whole chain: the root event's id, unless a request or job set one. */
  readonly correlationId: string
  /** The id of the event that led to this one, if any. */
  readonly causationId: string | null
  /** True while `event:replay` re-dispatches stored events. */
  readonly replaying: boolean
  /** What instrumentation carries along (the OpenTelemetry context of the current span). */
  readonly trace?: unknown
}

const storage = new AsyncLocalStorage<EventContext>()

/** The context of the code running now, if inside a dispatch, a job, or `withEventContext`. */
export function currentEventContext(): EventContext | undefined {
  return storage.getStore()
}

/**
 * Runs `fn` inside a context: a request can set its correlation id (say, from an
 * `X-Correlation-ID` header), a worker restores the one a job carries.
 */
export function withEventContext<T>(context: Partial<EventContext> & { correlationId: string }, fn: () => T): T {
  return storage.run({ eventId: null, causationId: null, replaying: false, ...context }, fn)
}

/** The context a queued job carries in its envelope, so its worker continues the chain. */
export interface CarriedContext {
  readonly eventId: string | null
  readonly correlationId: string
  readonly causationId: string | null
  /** The W3C `traceparent` of the span that queued the job, when tracing is on. */
  readonly traceparent?: string
}

let traceparentOf: ((trace: unknown) => string | undefined) | null = null

/** @internal Tracing installs how an EventContext's `trace` becomes a `traceparent`. */
export function useTraceparent(serialize: ((trace: unknown) => string | undefined) | null): void {
  traceparentOf = serialize
}

/** What a job pushed now should carry: the current context, or undefined outside any. */
export function carriedContext(): CarriedContext | undefined {
  const context = storage.getStore()
  if (context === undefined) return undefined
  const traceparent = traceparentOf !== null && context.trace !== undefined ? traceparentOf(context.trace) : undefined
  const carried = { eventId: context.eventId, correlationId: context.correlationId, causationId: context.causationId }
  return traceparent === undefined ? carried : { ...carried, traceparent }
}
