import type { ListenerRegistry, ResolvedClass } from './listener-registry.ts'

/**
 * How a dispatch came: `dispatch` from application code; `now` a worker running a queued
 * event's listeners (its contracts are not applied again: it was validated, queued and
 * broadcast when it was dispatched); `replay` from `event:replay` (no fake, listeners only,
 * queued ones inline).
 */
export type DispatchMode = 'dispatch' | 'now' | 'replay'

/** One dispatch, as it travels the path. */
export interface Dispatch {
  /** What was dispatched: the event object, or a string event's name. */
  readonly key: object | string
  readonly name: string
  /** The event object, or a string event's payload. */
  readonly event: unknown
  /** `until()`: stop at, and resolve to, the first response that is not null or undefined. */
  readonly halt: boolean
  /** `until(event, pick)`: what a response is taken as (null or undefined: go on to the next listener). */
  readonly pick: ((response: unknown) => unknown) | null
  readonly mode: DispatchMode
  /** A class event's listeners and contracts; null for a string event. */
  readonly resolved: ResolvedClass | null
  /** A replay of one listener only (`SendReceipt`, `OrderSubscriber@handleOrderPlaced`). */
  readonly only: string | null
}

/** A dispatch of an event object (its class resolved by the registry), or of a string event with its payload. */
export function describeDispatch(
  registry: ListenerRegistry,
  key: object | string,
  payload: unknown,
  halt: boolean,
  mode: DispatchMode,
  only: string | null,
  pick: ((response: unknown) => unknown) | null = null,
): Dispatch {
  if (typeof key === 'string') return { key, name: key, event: payload, halt, pick, mode, resolved: null, only }
  const resolved = registry.forClass(key.constructor)
  return { key, name: resolved.name, event: key, halt, pick, mode, resolved, only }
}

/** What a dispatch that ran no listener resolves to. */
export function nothing(dispatch: Dispatch): Promise<unknown> {
  return Promise.resolve(dispatch.halt ? undefined : [])
}
