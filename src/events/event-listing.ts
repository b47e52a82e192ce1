import { isShouldBroadcast } from './contracts.ts'
import { UserError } from '../foundation/errors.ts'
import { closeMatches, describeEvent, type EventDescription } from './event-catalog.ts'
import type { Dispatcher } from './dispatcher.ts'
import type { DiscoveryReport } from './discovery.ts'
import type { EventClass, RegisteredListener } from './types.ts'
import { isWildcard } from './wildcard.ts'

/** One row of `event:list`. */
export interface ListedListener {
  readonly name: string
  readonly method: string | null
  /** The wildcard pattern that brought this listener in, or null. */
  readonly pattern: string | null
  readonly queued: boolean
}

/** One event: its name, its catalog entry (see event-catalog.ts) and its listeners. */
export interface ListedEvent extends EventDescription {
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

/** What `event:list` keeps: events whose name contains `event`, of category `category` (exactly). */
export interface EventFilter {
  readonly event?: string
  readonly category?: string
}

/**
 * Each known event (discovered in app/events or listened to by name) with the listeners that
 * would run for it, wildcards included, and each wildcard pattern with its listeners. A string
 * filter is the name filter. Wildcard patterns have no category, so a category filter leaves
 * them out.
 */
export function listEvents(dispatcher: Dispatcher, discovery: DiscoveryReport, filter: string | EventFilter = {}): EventListing {
  const { event: name, category } = typeof filter === 'string' ? { event: filter, category: undefined } : filter
  const registered = dispatcher.getListeners()
  const keep = (event: string) => name === undefined || event.includes(name)
  const events = knownEvents(discovery, registered)
    .map((event) => listedEvent(dispatcher, discovery, event))
    .filter((event) => keep(event.event) && (category === undefined || event.category === category))
  const wildcards = [...registered]
    .filter(([pattern]) => isWildcard(pattern) && keep(pattern) && category === undefined)
    .map(([pattern, listeners]) => ({
      event: pattern,
      description: null,
      category: null,
      tags: [],
      broadcast: false,
      listeners: listeners.map(listed),
      schema: null,
      example: null,
    }))
  return { events, wildcards }
}

/** Every category the known events declare, sorted. */
export function eventCategories(events: readonly ListedEvent[]): string[] {
  return [...new Set(events.flatMap((event) => (event.category === null ? [] : [event.category])))].sort()
}

/**
 * The events discovered in app/events (classes, and string events declared with
 * `defineEvents`) or listened to by name (not wildcard patterns), sorted.
 */
function knownEvents(discovery: DiscoveryReport, registered: ReadonlyMap<string, unknown>): string[] {
  const names = new Set<string>([...discovery.events.keys(), ...(discovery.declared.keys())])
  for (const name of registered.keys()) if (!isWildcard(name)) names.add(name)
  return [...names].sort()
}

function listedEvent(dispatcher: Dispatcher, discovery: DiscoveryReport, name: string): ListedEvent {
  const eventClass = discovery.events.get(name) ?? (dispatcher.eventClass(name) as EventClass | undefined)
  const { description, category, tags, schema, example } = describeEvent(eventClass ?? discovery.declared.get(name))
  return {
    event: name,
    description,
    category,
    tags,
    broadcast: isShouldBroadcast(eventClass),
    listeners: dispatcher.getListeners(eventClass ?? name).map(listed),
    schema,
    example,
  }
}

/**
 * One known event by its exact name (`event:show`), or a UserError naming the close matches.
 */
export function showEvent(dispatcher: Dispatcher, discovery: DiscoveryReport, name: string): ListedEvent {
  const known = knownEvents(discovery, dispatcher.getListeners())
  if (known.includes(name)) return listedEvent(dispatcher, discovery, name)
  const close = closeMatches(name, known)
  throw new UserError(`Event "${name}" is not known${close.length > 0 ? `: did you mean ${close.join(', ')}?` : ' (see artisan event:list).'}`)
}
