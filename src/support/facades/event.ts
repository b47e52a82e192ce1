import type { Dispatcher } from '../../events/dispatcher.ts'
import { EventFake, type FakePayload } from '../../events/event-fake.ts'
import type { EventKey } from '../../events/types.ts'
import { listEvents, type EventListing } from '../../events/event-listing.ts'
import { installedFake, restoreFakesOn } from '../../foundation/fake-recorder.ts'
import { facadeRoot } from '../application-root.ts'

function dispatcher(): Dispatcher {
  return facadeRoot().make('events')
}

function currentFake(method: string): EventFake {
  return installedFake(dispatcher(), EventFake, 'Event', method)
}

type Forwarded = Pick<
  Dispatcher,
  | 'listen'
  | 'subscribe'
  | 'dispatch'
  | 'until'
  | 'dispatchIf'
  | 'dispatchUnless'
  | 'defer'
  | 'settled'
  | 'onError'
  | 'hasListeners'
  | 'hasWildcardListeners'
  | 'getListeners'
  | 'forget'
  | 'flush'
>

function forward<K extends keyof Forwarded>(method: K): Forwarded[K] {
  return ((...args: unknown[]) => (dispatcher()[method] as (...a: unknown[]) => unknown)(...args)) as Forwarded[K]
}

/**
 * The `Event` facade: the application's dispatcher, plus Laravel's fakes.
 *
 * ```ts
 * Event.listen(OrderPlaced, SendReceipt)
 * await Event.dispatch(new OrderPlaced(1, 99.5))
 *
 * using fake = Event.fake()          // restored at the end of the block
 * await checkout()
 * Event.assertDispatched(OrderPlaced, (e) => e.orderId === 1)
 * ```
 */
export const Event = {
  /**
   * The registered events and their listeners, as `artisan event:list --json` prints them;
   * `filter` keeps the events (and wildcard patterns) whose name contains it.
   *
   * ```ts
   * const { events, wildcards } = Event.list('Order')
   * events.map((e) => `${e.event}: ${e.listeners.map((l) => l.name).join(', ')}`)
   * ```
   */
  list(filter?: string): EventListing {
    const app = facadeRoot()
    return listEvents(app.make('events'), app.make('events.discovery'), filter)
  },

  /**
   * Registers a listener (a class with `handle(event)`, or a function) for an event class, a
   * string event, a wildcard pattern or a list of them. The same listener twice is a no-op.
   *
   * ```ts
   * Event.listen(OrderPlaced, SendReceipt)
   * Event.listen([OrderPlaced, 'orders.manual'], (event) => log(event))
   * Event.listen('orders.*', (name, event) => audit(name, event))   // wildcards get the name
   * ```
   */
  listen: forward('listen'),

  /**
   * Registers a subscriber: a class with `subscribe(events)`, or one with `static events`
   * whose methods are routed by name (`OrderShipped` → `handleOrderShipped`).
   *
   * ```ts
   * Event.subscribe(OrderSubscriber)
   * ```
   */
  subscribe: forward('subscribe'),

  /**
   * Dispatches an event object, or a string event with its payload, and resolves to the
   * listeners' responses (stopping at the first `false`).
   *
   * ```ts
   * await Event.dispatch(new OrderPlaced(1, 99.5))
   * await Event.dispatch('orders.refunded', { orderId: 1 })
   * ```
   */
  dispatch: forward('dispatch'),

  /**
   * Dispatches and resolves to the first response that is not `null` or `undefined`.
   *
   * ```ts
   * const price = await Event.until(new PriceRequested('SKU-1'))
   * ```
   */
  until: forward('until'),

  /**
   * Dispatches the event only when `condition` is truthy.
   *
   * ```ts
   * await Event.dispatchIf(order.total > 1000, new LargeOrderPlaced(order.id))
   * ```
   */
  dispatchIf: forward('dispatchIf'),

  /**
   * Dispatches the event only when `condition` is falsy.
   *
   * ```ts
   * await Event.dispatchUnless(user.verified, new VerificationNeeded(user.id))
   * ```
   */
  dispatchUnless: forward('dispatchUnless'),

  /**
   * Holds the dispatches made while `fn` runs (all, or only `events`) and dispatches them in
   * order once it resolves; when it throws they are dropped. Resolves to `fn`'s result.
   *
   * ```ts
   * const order = await Event.defer(async () => {
   *   const order = await saveOrder({ total: 99.5 })
   *   await OrderPlaced.dispatch(order.id, order.total)   // held until the callback resolves
   *   return order
   * })
   * ```
   */
  defer: forward('defer'),

  /**
   * Resolves once every listener started by earlier dispatches has finished: in a test,
   * instead of sleeping after a dispatch that was not awaited.
   *
   * ```ts
   * void OrderPlaced.dispatch(1, 99.5)
   * await Event.settled()
   * ```
   */
  settled: forward('settled'),

  /**
   * Hands each listener error to `handler` instead of rejecting the dispatch with an
   * AggregateError; `null` puts the default back.
   *
   * ```ts
   * Event.onError((error, event, listener) => report(error, { event, listener: listener.name }))
   * ```
   */
  onError: forward('onError'),

  /**
   * True when the event (a class or a name) has listeners, wildcards included.
   *
   * ```ts
   * if (!Event.hasListeners(OrderPlaced)) console.warn('nobody listens to OrderPlaced')
   * ```
   */
  hasListeners: forward('hasListeners'),

  /**
   * True when a wildcard listener matches the event's name.
   *
   * ```ts
   * Event.listen('orders.*', audit)
   * Event.hasWildcardListeners('orders.refunded')   // true
   * ```
   */
  hasWildcardListeners: forward('hasWildcardListeners'),

  /**
   * The listeners that would run for the event, in order; with no argument, every
   * registration keyed by event name or pattern.
   *
   * ```ts
   * Event.getListeners(OrderPlaced).map((listener) => listener.name)   // ['SendReceipt', …]
   * ```
   */
  getListeners: forward('getListeners'),

  /**
   * Removes every listener of an event class, name or wildcard pattern.
   *
   * ```ts
   * Event.forget('orders.*')
   * ```
   */
  forget: forward('forget'),

  /**
   * Removes every listener and subscriber.
   *
   * ```ts
   * Event.flush()
   * ```
   */
  flush: forward('flush'),

  /**
   * Records dispatches instead of running listeners: every event, or only `events` (the
   * others still reach their listeners). Listeners stay registered for `assertListening`.
   * `using` restores the real dispatcher at the end of the block.
   *
   * ```ts
   * using fake = Event.fake([OrderPlaced])
   * await placeOrder()
   * fake.assertDispatched(OrderPlaced, (e) => e.orderId === 1)
   * ```
   */
  fake(events?: readonly EventKey[]): EventFake {
    return new EventFake(dispatcher(), events ? { only: events } : {})
  },

  /**
   * True while a fake records this application's dispatches (`Event.fake()` and friends).
   *
   * ```ts
   * if (!Event.isFaking()) await warmCaches()
   * ```
   */
  isFaking(): boolean {
    return dispatcher().currentInterceptor instanceof EventFake
  },

  /**
   * Fakes every event except `events`, which still reach their listeners.
   *
   * ```ts
   * using fake = Event.fakeExcept([OrderPlaced])
   * await placeOrder()                       // OrderPlaced's listeners run, the rest are recorded
   * fake.assertDispatched(OrderShipped)
   * ```
   */
  fakeExcept(events: readonly EventKey[]): EventFake {
    return new EventFake(dispatcher(), { except: events })
  },

  /**
   * Fakes while `fn` runs, then restores, even when `fn` throws. Resolves to `fn`'s result.
   *
   * ```ts
   * const order = await Event.fakeFor(async (fake) => {
   *   const order = await placeOrder()
   *   fake.assertDispatched(OrderPlaced)
   *   return order
   * })
   * ```
   */
  async fakeFor<T>(fn: (fake: EventFake) => T | Promise<T>, events?: readonly EventKey[]): Promise<T> {
    const fake = Event.fake(events)
    try {
      return await fn(fake)
    } finally {
      fake.restore()
    }
  },

  /**
   * Removes every fake and puts the real dispatcher back.
   *
   * ```ts
   * Event.fake()
   * Event.restore()
   * await Event.dispatch(new OrderPlaced(1, 99.5))   // the listeners run again
   * ```
   */
  restore(): void {
    restoreFakesOn(dispatcher(), EventFake)
  },

  /**
   * Asserts `key` was dispatched: at least once, exactly `times` times, or at least once
   * passing `predicate`. The AssertionError lists what was dispatched.
   *
   * ```ts
   * using fake = Event.fake()
   * await placeOrder()
   * Event.assertDispatched(OrderPlaced)
   * Event.assertDispatched(OrderPlaced, 1)
   * Event.assertDispatched(OrderPlaced, (e) => e.total === 99.5)
   * ```
   */
  assertDispatched<K extends EventKey>(key: K, predicateOrTimes?: ((event: FakePayload<K>) => boolean) | number): void {
    currentFake('assertDispatched').assertDispatched(key, predicateOrTimes)
  },

  /**
   * Asserts `key` was dispatched exactly `times` times.
   *
   * ```ts
   * Event.assertDispatchedTimes(OrderPlaced, 2)
   * ```
   */
  assertDispatchedTimes(key: EventKey, times: number): void {
    currentFake('assertDispatchedTimes').assertDispatchedTimes(key, times)
  },

  /**
   * Asserts `key` was dispatched exactly once.
   *
   * ```ts
   * Event.assertDispatchedOnce(OrderPlaced)
   * ```
   */
  assertDispatchedOnce(key: EventKey): void {
    currentFake('assertDispatchedOnce').assertDispatchedOnce(key)
  },

  /**
   * Asserts `key` was not dispatched, or that none of its dispatches passed `predicate`.
   *
   * ```ts
   * Event.assertNotDispatched('orders.refunded')
   * Event.assertNotDispatched(OrderPlaced, (e) => e.orderId === 2)
   * ```
   */
  assertNotDispatched<K extends EventKey>(key: K, predicate?: (event: FakePayload<K>) => boolean): void {
    currentFake('assertNotDispatched').assertNotDispatched(key, predicate)
  },

  /**
   * Asserts no event at all was dispatched.
   *
   * ```ts
   * using fake = Event.fake()
   * await viewCart()
   * Event.assertNothingDispatched()
   * ```
   */
  assertNothingDispatched(): void {
    currentFake('assertNothingDispatched').assertNothingDispatched()
  },

  /**
   * Asserts `listener` (a class or function) is registered for `key`: listeners stay
   * registered while faked.
   *
   * ```ts
   * using fake = Event.fake()
   * Event.assertListening(OrderPlaced, SendReceipt)
   * ```
   */
  assertListening(key: EventKey, listener: unknown): void {
    currentFake('assertListening').assertListening(key, listener)
  },

  /**
   * The recorded dispatches of `key` (faked or let through) that pass `predicate`.
   *
   * ```ts
   * const [placed] = Event.dispatched(OrderPlaced, (e) => e.orderId === 1)
   * expect(placed?.total).toBe(99.5)
   * ```
   */
  dispatched<K extends EventKey>(key: K, predicate?: (event: FakePayload<K>) => boolean): FakePayload<K>[] {
    return currentFake('dispatched').dispatched(key, predicate)
  },
}
