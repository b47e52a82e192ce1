import { FRAMEWORK_CLASS } from './contracts.ts'
import type { SubscriberRoutes } from './subscriber-routes.ts'
import type { EventKey, ListenerResult, PayloadOf, WildcardPattern } from './types.ts'

/** The listener's own declaration of the events it handles: read by discovery and `listen()`. */
export interface DeclaresEvents {
  readonly events: readonly EventKey[]
}

/** The instance side of `Listener.for(...)`: a `handle` method typed for the declared events. */
export type DeclaredHandler<K> = [K] extends [WildcardPattern]
  ? { handle(eventName: string, event: unknown): ListenerResult }
  : { handle(event: PayloadOf<K>): ListenerResult }

/**
 * The abstract base `Listener.for(...)` returns. `handle` is a method, so an unrelated event
 * type is a compile error here, and `listen()` checks the parameter strictly.
 */
export type ListenerBase<K> = (abstract new () => DeclaredHandler<K>) & DeclaresEvents

/** The abstract base `Subscriber.for(...)` returns: methods are routed by event name. */
export type SubscriberBase = (abstract new () => object) & { readonly events: ReadonlyArray<EventKey | SubscriberRoutes> }

/**
 * Listener classes declare the events they handle in their `extends` clause, the one place
 * discovery reads, and the compiler checks `handle` against them:
 *
 * ```ts
 * export default class SendReceipt extends Listener.for(OrderPlaced) {
 *   handle(event: OrderPlaced) { ... }
 * }
 * ```
 */
export const Listener = {
  for<const K extends readonly EventKey[]>(...events: K): ListenerBase<K[number]> {
    abstract class DeclaredListener {
      static readonly events: readonly EventKey[] = Object.freeze([...events])
      static readonly [FRAMEWORK_CLASS] = true
    }
    return DeclaredListener as unknown as ListenerBase<K[number]>
  },
}

/**
 * Subscribers handle several events in one class, one method each, routed by convention:
 * `handleOrderShipped` for `OrderShipped`, `handleTaskCompleted` for `task.completed`.
 * A class with a `subscribe(events)` method registers what it likes instead.
 *
 * ```ts
 * export default class OrderSubscriber extends Subscriber.for(OrderShipped, 'task.completed') {
 *   handleOrderShipped(event: OrderShipped) { ... }
 *   handleTaskCompleted(task: { id: number }) { ... }
 * }
 * class TaskSubscriber extends Subscriber.for({ 'task.*': 'handleTaskEvents' }) {
 *   handleTaskEvents(eventName: string, task: unknown) { ... }
 * }
 * ```
 */
export const Subscriber = {
  for(...events: Array<EventKey | SubscriberRoutes>): SubscriberBase {
    abstract class DeclaredSubscriber {
      static readonly events: ReadonlyArray<EventKey | SubscriberRoutes> = Object.freeze([...events])
      static readonly [FRAMEWORK_CLASS] = true
    }
    return DeclaredSubscriber
  },
}

/** `OrderShipped` → `handleOrderShipped`, `task.completed` → `handleTaskCompleted`. */
export function routedMethodName(eventName: string): string {
  const pascal = eventName
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('')
  return `handle${pascal}`
}
