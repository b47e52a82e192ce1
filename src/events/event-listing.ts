import { isShouldBroadcast } from './contracts.ts'
import type { Dispatcher } from './dispatcher.ts'
import type { DiscoveryReport } from './discovery.ts'
import type { RegisteredListener } from './types.ts'
import { isWildcard } from './wildcard.ts'

/** One row of `event:list`. */
export interface ListedListener {
  readonly name: string
  readonly method: string | null
  /** The wildcard pattern that brought this listener in, or null. */
  readonly pattern: string | null
  readonly queued: boolean
}

export interface ListedEvent {
  readonly event: string
  /** A `ShouldBroadcast` event class. */
  readonly broadcast: boolean
  readonly listeners: readonly ListedListener[]
}

export interface EventListing {
  readonly events: readonly ListedEvent[]
  readonly wildcards: readonly ListedEvent[]
}

function listed(listener: RegisteredListener): ListedListener {
  return {
    name: listener.name,
    method: listener.method === 'handle' ? null : listener.method,
    pattern: listener.wildcard ? listener.event : null,
    queued: listener.queued,
  }
}

/**
 * Each known event (discovered in app/events or listened to by name) with the listeners that
 * would run for it, wildcards included, and each wildcard pattern with its listeners.
 */
export function listEvents(dispatcher: Dispatcher, discovery: DiscoveryReport, filter?: string): EventListing {
  const registered = dispatcher.getListeners()
  const names = new Set<string>(discovery.events.keys())
  for (const name of registered.keys()) if (!isWildcard(name)) names.add(name)
  const keep = (name: string) => filter === undefined || name.includes(filter)
  const events = [...names]
    .filter(keep)
    .sort()
    .map((name) => ({
      event: name,
      broadcast: isShouldBroadcast(discovery.events.get(name)),
      listeners: dispatcher.getListeners(discovery.events.get(name) ?? name).map(listed),
    }))
  const wildcards = [...registered]
    .filter(([name]) => isWildcard(name) && keep(name))
    .map(([name, listeners]) => ({ event: name, broadcast: false, listeners: listeners.map(listed) }))
  return { events, wildcards }
}
