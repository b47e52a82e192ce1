import type { EventBusManager } from '../../event-bus/event-bus-manager.ts'
import type { BusGroupStatus } from '../../event-bus/event-bus-driver.ts'
import type { BusListener, SubscribeOptions } from '../../event-bus/subscriptions.ts'
import type { EventClass } from '../../events/types.ts'
import { facadeRoot } from '../application-root.ts'

function manager(): EventBusManager {
  return facadeRoot().make('event-bus')
}

/**
 * The `EventBus` facade: the application's distributed event bus (config/event-bus.ts).
 * ShouldPublish events go to it when dispatched; subscriptions run in `artisan event-bus:work`
 * (or, on the `local` driver, in the publishing process).
 *
 * ```ts
 * EventBus.subscribe(OrderPlaced, (event) => reserveStock(event.orderId))
 * await OrderPlaced.dispatch(1)   // class OrderPlaced extends ShouldPublish(Dispatchable)
 * ```
 */
export const EventBus = {
  /**
   * Runs `listener` for each published `event` this service receives: in one of its processes,
   * or with `{ fanout: true }` in every one. The result removes the subscription.
   *
   * ```ts
   * EventBus.subscribe(OrderPlaced, async (event, delivery) => log(`${delivery.source}: ${event.orderId}`))
   * EventBus.subscribe(PricesChanged, () => cache.clear(), { fanout: true })
   * ```
   */
  subscribe<E extends object>(event: EventClass<E> | string, listener: BusListener<E>, options?: SubscribeOptions): () => void {
    return manager().subscribe(event as string, listener as BusListener<unknown>, options)
  },

  /**
   * Publishes an event to the bus only (no local listener runs); inside `DB.transaction` it goes
   * to the outbox and is sent after the commit. Resolves to its id on the bus.
   *
   * ```ts
   * await EventBus.publish(new OrderPlaced(1))
   * await EventBus.publish('stock.low', { sku: 'A-1' })
   * ```
   */
  publish(event: object | string, payload?: unknown): Promise<string> {
    return typeof event === 'string' ? manager().publish(event, payload) : manager().publish(event)
  },

  /**
   * The streams of the bus with their groups: length, pending, lag.
   *
   * ```ts
   * for (const row of await EventBus.status()) console.log(row.stream, row.group, row.pending)
   * ```
   */
  status(): Promise<BusGroupStatus[]> {
    return manager().status()
  },
}
