import type { EventBusManager } from '../../event-bus/event-bus-manager.ts'
import type { BusGroupStatus } from '../../event-bus/event-bus-driver.ts'
import type { BusListener, SubscribeOptions } from '../../event-bus/subscriptions.ts'
import type { EventClass } from '../../events/types.ts'
import { EventBusFake, type PublishTarget } from '../../event-bus/event-bus-fake.ts'
import { installedFake, restoreFakesOn } from '../../foundation/fake-recorder.ts'
import { facadeRoot } from '../application-root.ts'

function manager(): EventBusManager {
  return facadeRoot().make('event-bus')
}

function currentFake(method: string): EventBusFake {
  return installedFake(manager(), EventBusFake, 'EventBus', method)
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
  /**
   * Records publishes instead of sending them (a ShouldPublish event's local listeners still run).
   *
   * ```ts
   * using bus = EventBus.fake()
   * await OrderPlaced.dispatch(1)
   * EventBus.assertPublished(OrderPlaced, (event: OrderPlaced) => event.orderId === 1)
   * ```
   */
  fake(): EventBusFake {
    return new EventBusFake(manager())
  },

  /**
   * Puts the real bus back.
   *
   * ```ts
   * EventBus.fake(); await run(); EventBus.restore()
   * ```
   */
  restore(): void {
    restoreFakesOn(manager(), EventBusFake)
  },

  /**
   * Asserts the event was published: at least once, `times` times, or once passing `predicate`.
   *
   * ```ts
   * EventBus.assertPublished(OrderPlaced, 2)
   * ```
   */
  assertPublished<E = unknown>(target: PublishTarget, predicateOrTimes?: ((event: E) => boolean) | number): void {
    currentFake('assertPublished').assertPublished(target, predicateOrTimes)
  },

  /**
   * Asserts the event was not published (or none passing `predicate` was).
   *
   * ```ts
   * EventBus.assertNotPublished('stock.low')
   * ```
   */
  assertNotPublished<E = unknown>(target: PublishTarget, predicate?: (event: E) => boolean): void {
    currentFake('assertNotPublished').assertNotPublished(target, predicate)
  },

  /**
   * Asserts nothing was published.
   *
   * ```ts
   * EventBus.assertNothingPublished()
   * ```
   */
  assertNothingPublished(): void {
    currentFake('assertNothingPublished').assertNothingPublished()
  },
}
