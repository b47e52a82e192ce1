import type { EventKey } from './types.ts'

/**
 * Routes a subscriber names by hand: an event (a string event, a class's event name) or a
 * wildcard pattern → the method that handles it. A method routed from a pattern receives
 * `(eventName, event)`, as wildcard listeners do.
 *
 * ```ts
 * export default class TaskSubscriber {
 *   static events = [TaskCreated, { 'task.*': 'handleTaskEvents', 'task.failed': 'alert' }]
 *   handleTaskCreated(event: TaskCreated) { … }              // by convention
 *   handleTaskEvents(eventName: string, event: unknown) { … } // every task.* event
 *   alert(event: PayloadOf<'task.failed'>) { … }
 * }
 * ```
 */
export type SubscriberRoutes = { readonly [event: string]: string }

/** What a subscriber's `static events` holds: events routed by convention and route maps, or one route map. */
export type SubscriberEvents = readonly (EventKey | SubscriberRoutes)[] | SubscriberRoutes

/** One registration `static events` asks for; `method` is null when routed by convention (`handleOrderShipped`). */
export interface SubscriberRoute {
  readonly event: EventKey
  readonly method: string | null
}

/** A route map: a plain object (not a class, an array or a Map). */
export function isRouteMap(value: unknown): value is SubscriberRoutes {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** True when `static events` has a shape a subscriber may declare (checked item by item when subscribed). */
export function declaresSubscriberEvents(declared: unknown): boolean {
  return Array.isArray(declared) || isRouteMap(declared)
}

/**
 * The registrations a subscriber's `static events` asks for, in the order written, or
 * undefined when it declares none. A malformed item is a TypeError naming the subscriber.
 */
export function subscriberRoutes(declared: unknown, subscriber: string): SubscriberRoute[] | undefined {
  if (!declaresSubscriberEvents(declared)) return undefined
  const items: readonly unknown[] = Array.isArray(declared) ? declared : [declared]
  const routes: SubscriberRoute[] = []
  for (const item of items) {
    if (typeof item === 'string' || typeof item === 'function') {
      routes.push({ event: item as EventKey, method: null })
    } else if (isRouteMap(item)) {
      for (const [event, method] of Object.entries(item)) routes.push({ event, method: routedTo(subscriber, event, method) })
    } else {
      throw new TypeError(
        `Subscriber "${subscriber}" lists ${describe(item)} in static events: list event classes, names, or routes like { 'task.*': 'handleTaskEvents' }.`,
      )
    }
  }
  return routes
}

function routedTo(subscriber: string, event: string, method: unknown): string {
  if (event === '') throw new TypeError(`Subscriber "${subscriber}" routes an empty event name: name the event or pattern.`)
  if (typeof method !== 'string' || method === '') {
    throw new TypeError(`Subscriber "${subscriber}" routes "${event}" to ${describe(method)}: a route names a method, e.g. { '${event}': 'handleTaskEvents' }.`)
  }
  return method
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'string' ? JSON.stringify(value) : typeof value
}
