import type { Dispatcher } from '../../events/dispatcher.ts'
import { EventFake, type FakePayload } from '../../events/event-fake.ts'
import type { EventKey } from '../../events/types.ts'
import { listEvents, type EventListing } from '../../events/event-listing.ts'
import { facadeRoot } from '../application-root.ts'

function dispatcher(): Dispatcher {
  return facadeRoot().make('events')
}

function currentFake(method: string): EventFake {
  const fake = dispatcher().currentInterceptor
  if (!(fake instanceof EventFake)) {
    throw new Error(`Event.${method}() needs a fake: call Event.fake() first.`)
  }
  return fake
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
 * await Event.dispatch(new OrderPlaced(1))
 *
 * using fake = Event.fake()          // restored at the end of the block
 * await checkout()
 * Event.assertDispatched(OrderPlaced, (e) => e.orderId === 1)
 * ```
 */
export const Event = {
  /** The registered events and their listeners, as `artisan event:list --json` prints them. */
  list(filter?: string): EventListing {
    const app = facadeRoot()
    return listEvents(app.make('events'), app.make('events.discovery'), filter)
  },
  listen: forward('listen'),
  subscribe: forward('subscribe'),
  dispatch: forward('dispatch'),
  until: forward('until'),
  dispatchIf: forward('dispatchIf'),
  dispatchUnless: forward('dispatchUnless'),
  defer: forward('defer'),
  settled: forward('settled'),
  onError: forward('onError'),
  hasListeners: forward('hasListeners'),
  hasWildcardListeners: forward('hasWildcardListeners'),
  getListeners: forward('getListeners'),
  forget: forward('forget'),
  flush: forward('flush'),

  /**
   * Records dispatches instead of running listeners: every event, or only `events` (the
   * others still reach their listeners). Listeners stay registered for `assertListening`.
   */
  fake(events?: readonly EventKey[]): EventFake {
    return new EventFake(dispatcher(), events ? { only: events } : {})
  },

  /** Fakes every event except `events`, which still reach their listeners. */
  fakeExcept(events: readonly EventKey[]): EventFake {
    return new EventFake(dispatcher(), { except: events })
  },

  /** Fakes while `fn` runs, then restores, even when `fn` throws. Resolves to `fn`'s result. */
  async fakeFor<T>(fn: (fake: EventFake) => T | Promise<T>, events?: readonly EventKey[]): Promise<T> {
    const fake = Event.fake(events)
    try {
      return await fn(fake)
    } finally {
      fake.restore()
    }
  },

  /** Removes every fake and puts the real dispatcher back. */
  restore(): void {
    const events = dispatcher()
    let fake = events.currentInterceptor
    while (fake instanceof EventFake) {
      fake.restore()
      if (events.currentInterceptor === fake) break
      fake = events.currentInterceptor
    }
  },

  assertDispatched<K extends EventKey>(key: K, predicateOrTimes?: ((event: FakePayload<K>) => boolean) | number): void {
    currentFake('assertDispatched').assertDispatched(key, predicateOrTimes)
  },
  assertDispatchedTimes(key: EventKey, times: number): void {
    currentFake('assertDispatchedTimes').assertDispatchedTimes(key, times)
  },
  assertDispatchedOnce(key: EventKey): void {
    currentFake('assertDispatchedOnce').assertDispatchedOnce(key)
  },
  assertNotDispatched<K extends EventKey>(key: K, predicate?: (event: FakePayload<K>) => boolean): void {
    currentFake('assertNotDispatched').assertNotDispatched(key, predicate)
  },
  assertNothingDispatched(): void {
    currentFake('assertNothingDispatched').assertNothingDispatched()
  },
  assertListening(key: EventKey, listener: unknown): void {
    currentFake('assertListening').assertListening(key, listener)
  },
  /** The recorded dispatches of `key` (faked or let through) that pass `predicate`. */
  dispatched<K extends EventKey>(key: K, predicate?: (event: FakePayload<K>) => boolean): FakePayload<K>[] {
    return currentFake('dispatched').dispatched(key, predicate)
  },
}
