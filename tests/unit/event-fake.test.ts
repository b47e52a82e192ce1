import { AssertionError } from 'node:assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  Dispatchable,
  Dispatcher,
  Event,
  EventFake,
  Listener,
  createApplication,
  setFacadeRoot,
  type Application,
} from 'herald'

// ---------------------------------------------------------------------------------------------
// Events and listeners. Each listener writes to `calls`, so "did the real listener run?" is a
// plain assertion on that list.

class OrderPlaced extends Dispatchable {
  constructor(
    readonly orderId: number,
    readonly total: number,
  ) {
    super()
  }
}

/** A class event with its own name, to check that the fake reports names, not class names. */
class OrderShipped extends Dispatchable {
  static override readonly eventName = 'orders.shipped'
  constructor(readonly orderId: number) {
    super()
  }
}

/** Any object is an event, Dispatchable or not. */
class UserRegistered {
  constructor(readonly email: string) {}
}

let calls: string[] = []

class SendReceipt extends Listener.for(OrderPlaced) {
  handle(event: OrderPlaced) {
    calls.push(`receipt:${event.orderId}`)
  }
}

class NotifyWarehouse extends Listener.for(OrderShipped) {
  handle(event: OrderShipped) {
    calls.push(`warehouse:${event.orderId}`)
  }
}

function welcome(event: UserRegistered) {
  calls.push(`welcome:${event.email}`)
}

function recordInvoice(payload: unknown) {
  calls.push(`invoice:${(payload as { id: number }).id}`)
}

function registerListeners(): void {
  Event.listen(OrderPlaced, SendReceipt)
  Event.listen(OrderShipped, NotifyWarehouse)
  Event.listen(UserRegistered, welcome)
  Event.listen('invoice.paid', recordInvoice)
}

// ---------------------------------------------------------------------------------------------
// A fresh application (and so a fresh dispatcher) behind the facades for every test.

let basePath: string

beforeAll(() => {
  basePath = mkdtempSync(join(tmpdir(), 'herald-event-fake-'))
})

afterAll(() => {
  rmSync(basePath, { recursive: true, force: true })
})

function freshApplication(): Application {
  return createApplication({ basePath, loadConfig: false, envFile: false })
}

let freshRoot: Application | null = null

/** The dispatcher behind the facades in this test. */
function events(): Dispatcher {
  return freshRoot!.make('events')
}

beforeEach(() => {
  calls = []
  freshRoot = freshApplication()
  setFacadeRoot(freshRoot)
})

// ---------------------------------------------------------------------------------------------
// Failure helpers: the error must be node's AssertionError, name what was dispatched, and its
// stack must start in this file (the framework's frames are trimmed).

const testFile = fileURLToPath(import.meta.url)

function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw, but it returned normally')
}

function firstFrame(error: Error): string {
  const frame = (error.stack ?? '').split('\n').find((line) => line.trimStart().startsWith('at '))
  return frame ?? '(no frame)'
}

function expectAssertionFailure(fn: () => unknown, ...fragments: Array<string | RegExp>): AssertionError {
  const error = thrownBy(fn)
  expect(error).toBeInstanceOf(AssertionError)
  const failure = error as AssertionError
  for (const fragment of fragments) {
    if (typeof fragment === 'string') expect(failure.message).toContain(fragment)
    else expect(failure.message).toMatch(fragment)
  }
  expect(firstFrame(failure)).toContain(testFile)
  return failure
}

// =============================================================================================

describe('Event.fake()', () => {
  it('records every dispatch and runs no listener', async () => {
    registerListeners()
    const fake = Event.fake()

    expect(await Event.dispatch(new OrderPlaced(1, 100))).toEqual([])
    expect(await Event.until(new UserRegistered('ada@example.com'))).toBeUndefined()
    await Event.dispatch('invoice.paid', { id: 7 })
    await OrderShipped.dispatch(3)
    await Event.settled()

    expect(calls).toEqual([])
    expect(fake).toBeInstanceOf(EventFake)
    expect(fake.recorded.map((record) => [record.name, record.faked])).toEqual([
      ['OrderPlaced', true],
      ['UserRegistered', true],
      ['invoice.paid', true],
      ['orders.shipped', true],
    ])
    expect(fake.recorded[2]!.event).toEqual({ id: 7 })
  })

  it('keeps the listeners registered, and restore() brings real dispatching back', async () => {
    registerListeners()
    const fake = Event.fake()

    expect(Event.hasListeners(OrderPlaced)).toBe(true)
    Event.assertListening(OrderPlaced, SendReceipt)
    await Event.dispatch(new OrderPlaced(1, 100))
    expect(calls).toEqual([])

    fake.restore()
    expect(events().currentInterceptor).toBeNull()
    await Event.dispatch(new OrderPlaced(2, 200))
    expect(calls).toEqual(['receipt:2'])
    // Dispatches after restore() are no longer recorded.
    expect(fake.dispatched(OrderPlaced).map((event) => event.orderId)).toEqual([1])
  })

  it('fakes only the listed classes and names; the others reach their real listeners', async () => {
    registerListeners()
    const fake = Event.fake([OrderPlaced, 'invoice.paid'])

    await Event.dispatch(new OrderPlaced(1, 100))
    await Event.dispatch('invoice.paid', { id: 7 })
    await Event.dispatch(new UserRegistered('ada@example.com'))
    await OrderShipped.dispatch(3)

    expect(calls).toEqual(['welcome:ada@example.com', 'warehouse:3'])
    expect(fake.recorded.map((record) => [record.name, record.faked])).toEqual([
      ['OrderPlaced', true],
      ['invoice.paid', true],
      ['UserRegistered', false],
      ['orders.shipped', false],
    ])
    // Events that were let through are still recorded, so they can be asserted on.
    Event.assertDispatched(UserRegistered)
  })

  it('fakes by wildcard pattern when given one', async () => {
    registerListeners()
    Event.fake(['orders.*'])

    await OrderShipped.dispatch(3)
    await Event.dispatch(new OrderPlaced(1, 100))

    expect(calls).toEqual(['receipt:1'])
    Event.assertDispatched(OrderShipped)
  })

  it('fakeExcept() fakes every event but the listed ones', async () => {
    registerListeners()
    const fake = Event.fakeExcept([OrderPlaced])

    await Event.dispatch(new OrderPlaced(1, 100))
    await Event.dispatch(new UserRegistered('ada@example.com'))
    await Event.dispatch('invoice.paid', { id: 7 })

    expect(calls).toEqual(['receipt:1'])
    expect(fake.recorded.map((record) => [record.name, record.faked])).toEqual([
      ['OrderPlaced', false],
      ['UserRegistered', true],
      ['invoice.paid', true],
    ])
  })

  it('fakeFor() fakes while the callback runs, then restores and returns its result', async () => {
    registerListeners()
    let seen: EventFake | null = null

    const result = await Event.fakeFor(async (fake) => {
      seen = fake
      await Event.dispatch(new OrderPlaced(1, 100))
      expect(calls).toEqual([])
      Event.assertDispatchedOnce(OrderPlaced)
      return 'done'
    })

    expect(result).toBe('done')
    expect(seen).toBeInstanceOf(EventFake)
    expect(events().currentInterceptor).toBeNull()
    await Event.dispatch(new OrderPlaced(2, 200))
    expect(calls).toEqual(['receipt:2'])
  })

  it('fakeFor() restores even when the callback throws, and rethrows its error', async () => {
    registerListeners()
    const failure = new Error('checkout failed')

    await expect(
      Event.fakeFor(async () => {
        await Event.dispatch(new OrderPlaced(1, 100))
        throw failure
      }),
    ).rejects.toBe(failure)

    expect(events().currentInterceptor).toBeNull()
    await Event.dispatch(new OrderPlaced(2, 200))
    expect(calls).toEqual(['receipt:2'])
  })

  it('Event.restore() puts the real dispatcher back; assertions then need a new fake', async () => {
    registerListeners()
    Event.fake()
    await Event.dispatch(new OrderPlaced(1, 100))

    Event.restore()

    await Event.dispatch(new OrderPlaced(2, 200))
    expect(calls).toEqual(['receipt:2'])
    expect(() => Event.assertDispatched(OrderPlaced)).toThrow(/Event\.fake\(\)/)
    // Restoring with no fake installed is harmless.
    expect(() => Event.restore()).not.toThrow()
  })

  it('Event.restore() puts the real dispatcher back even after Event.fake() was called twice', async () => {
    registerListeners()
    Event.fake()
    Event.fake()

    Event.restore()

    await Event.dispatch(new OrderPlaced(1, 100))
    expect(calls).toEqual(['receipt:1'])
    expect(events().currentInterceptor).toBeNull()
  })

  it('restore() is idempotent', async () => {
    registerListeners()
    const fake = Event.fake()
    fake.restore()
    fake.restore()

    await Event.dispatch(new OrderPlaced(1, 100))
    expect(calls).toEqual(['receipt:1'])
  })

  it('`using fake = Event.fake()` restores the real dispatcher when the block ends', async () => {
    registerListeners()
    {
      using fake = Event.fake()
      await Event.dispatch(new OrderPlaced(1, 100))
      expect(calls).toEqual([])
      fake.assertDispatchedOnce(OrderPlaced)
      expect(events().currentInterceptor).toBe(fake)
    }
    expect(events().currentInterceptor).toBeNull()
    await Event.dispatch(new OrderPlaced(2, 200))
    expect(calls).toEqual(['receipt:2'])
  })

  it('`using` restores even when the block throws', async () => {
    registerListeners()
    const attempt = async () => {
      using _fake = Event.fake()
      await Event.dispatch(new OrderPlaced(1, 100))
      throw new Error('boom')
    }

    await expect(attempt()).rejects.toThrow('boom')
    await Event.dispatch(new OrderPlaced(2, 200))
    expect(calls).toEqual(['receipt:2'])
  })

  it('works on a Dispatcher directly, without the facade', async () => {
    const dispatcher = new Dispatcher()
    const seen: number[] = []
    dispatcher.listen(OrderPlaced, (event) => {
      seen.push(event.orderId)
    })
    const fake = new EventFake(dispatcher, { only: [OrderPlaced] })

    await dispatcher.dispatch(new OrderPlaced(1, 100))
    fake.assertDispatched(OrderPlaced, (event) => event.orderId === 1)
    expect(seen).toEqual([])

    fake.restore()
    await dispatcher.dispatch(new OrderPlaced(2, 200))
    expect(seen).toEqual([2])
  })
})

// =============================================================================================

describe('assertions', () => {
  beforeEach(() => {
    registerListeners()
    Event.fake()
  })

  async function dispatchSome(): Promise<void> {
    await Event.dispatch(new OrderPlaced(1, 100))
    await Event.dispatch(new OrderPlaced(2, 250))
    await Event.dispatch('invoice.paid', { id: 7 })
  }

  describe('assertDispatched', () => {
    it('passes for a dispatched class, or its name', async () => {
      await dispatchSome()
      await OrderShipped.dispatch(3)
      Event.assertDispatched(OrderPlaced)
      Event.assertDispatched('OrderPlaced')
      Event.assertDispatched('invoice.paid')
      Event.assertDispatched(OrderShipped)
      Event.assertDispatched('orders.shipped')
    })

    it('fails for an event that was not dispatched, listing what was', async () => {
      await dispatchSome()
      expectAssertionFailure(
        () => Event.assertDispatched(UserRegistered),
        'UserRegistered',
        /OrderPlaced.*orderId: 1/,
        /OrderPlaced.*orderId: 2/,
        /invoice\.paid.*id: 7/,
      )
      expectAssertionFailure(() => Event.assertDispatched('user.deleted'), 'user.deleted', /invoice\.paid.*id: 7/)
    })

    it('says that nothing was dispatched when nothing was', () => {
      expectAssertionFailure(() => Event.assertDispatched(OrderPlaced), 'OrderPlaced', /no events were dispatched/i)
    })

    it('with a predicate: passes when one dispatch matches, fails when none does', async () => {
      await dispatchSome()
      Event.assertDispatched(OrderPlaced, (event) => event.total > 200)
      Event.assertDispatched('invoice.paid', (payload) => (payload as { id: number }).id === 7)

      expectAssertionFailure(
        () => Event.assertDispatched(OrderPlaced, (event) => event.total > 1000),
        'OrderPlaced',
        /predicate/,
        /orderId: 1.*total: 100/,
        /orderId: 2.*total: 250/,
      )
    })

    it('with a number: passes for exactly that many dispatches, fails otherwise', async () => {
      await dispatchSome()
      Event.assertDispatched(OrderPlaced, 2)
      Event.assertDispatched('invoice.paid', 1)

      expectAssertionFailure(() => Event.assertDispatched(OrderPlaced, 3), /3 time/, /2 time/, /orderId: 2/)
      expectAssertionFailure(() => Event.assertDispatched(OrderPlaced, 1), /1 time/, /2 time/)
    })
  })

  describe('assertDispatchedTimes and assertDispatchedOnce', () => {
    it('assertDispatchedTimes counts exactly', async () => {
      await dispatchSome()
      Event.assertDispatchedTimes(OrderPlaced, 2)
      Event.assertDispatchedTimes(UserRegistered, 0)

      expectAssertionFailure(
        () => Event.assertDispatchedTimes(OrderPlaced, 1),
        'OrderPlaced',
        /orderId: 1/,
        /invoice\.paid/,
      )
    })

    it('assertDispatchedOnce passes for one dispatch, fails for none and for two', async () => {
      await dispatchSome()
      Event.assertDispatchedOnce('invoice.paid')

      expectAssertionFailure(() => Event.assertDispatchedOnce(OrderPlaced), 'OrderPlaced', /2 time/, /orderId: 2/)
      expectAssertionFailure(() => Event.assertDispatchedOnce(UserRegistered), 'UserRegistered', /0 time/)
    })
  })

  describe('assertNotDispatched', () => {
    it('passes for an event that was not dispatched, fails for one that was', async () => {
      await dispatchSome()
      Event.assertNotDispatched(UserRegistered)
      Event.assertNotDispatched('user.deleted')

      expectAssertionFailure(
        () => Event.assertNotDispatched(OrderPlaced),
        'OrderPlaced',
        /orderId: 1.*total: 100/,
        /invoice\.paid.*id: 7/,
      )
    })

    it('with a predicate: only the matching dispatches count', async () => {
      await dispatchSome()
      Event.assertNotDispatched(OrderPlaced, (event) => event.orderId === 99)

      expectAssertionFailure(
        () => Event.assertNotDispatched(OrderPlaced, (event) => event.orderId === 2),
        'OrderPlaced',
        /predicate/,
        /orderId: 2.*total: 250/,
      )
    })
  })

  describe('assertNothingDispatched', () => {
    it('passes when nothing was dispatched, fails otherwise, listing the dispatches', async () => {
      Event.assertNothingDispatched()

      await Event.dispatch(new UserRegistered('ada@example.com'))
      expectAssertionFailure(() => Event.assertNothingDispatched(), /UserRegistered.*ada@example\.com/)
    })
  })

  describe('assertListening', () => {
    it('passes for a registered listener class and a registered function', () => {
      Event.assertListening(OrderPlaced, SendReceipt)
      Event.assertListening(UserRegistered, welcome)
      Event.assertListening('invoice.paid', recordInvoice)
    })

    it('fails for a listener that is not registered, naming the ones that are', () => {
      const failure = expectAssertionFailure(
        () => Event.assertListening(UserRegistered, SendReceipt),
        'SendReceipt',
        'UserRegistered',
        'welcome',
      )
      expect(failure.message).not.toContain('NotifyWarehouse')
      expectAssertionFailure(() => Event.assertListening('user.deleted', welcome), 'welcome', 'user.deleted')
    })
  })

  describe('dispatched', () => {
    it('returns the dispatched events of a class, in order', async () => {
      await dispatchSome()
      const orders = Event.dispatched(OrderPlaced)
      expect(orders).toHaveLength(2)
      expect(orders[0]).toBeInstanceOf(OrderPlaced)
      expect(orders.map((order) => order.orderId)).toEqual([1, 2])
    })

    it('filters with a predicate, returns payloads for string events, and [] when none', async () => {
      await dispatchSome()
      expect(Event.dispatched(OrderPlaced, (event) => event.total > 200).map((order) => order.orderId)).toEqual([2])
      expect(Event.dispatched('invoice.paid')).toEqual([{ id: 7 }])
      expect(Event.dispatched(UserRegistered)).toEqual([])
    })
  })

  it('the stack of a failure raised inside an async helper still starts in the test file', async () => {
    const failure = await (async () => {
      await dispatchSome()
      return thrownBy(() => Event.assertNotDispatched('invoice.paid'))
    })()
    expect(failure).toBeInstanceOf(AssertionError)
    expect(firstFrame(failure as Error)).toContain(testFile)
    expect((failure as Error).stack).not.toMatch(/[\\/]src[\\/]events[\\/]event-fake\.ts/)
  })
})

// =============================================================================================

describe('without a fake', () => {
  it('facade assertions throw an error that says to call Event.fake() first', async () => {
    registerListeners()
    await Event.dispatch(new OrderPlaced(1, 100))

    for (const assertion of [
      () => Event.assertDispatched(OrderPlaced),
      () => Event.assertDispatchedTimes(OrderPlaced, 1),
      () => Event.assertDispatchedOnce(OrderPlaced),
      () => Event.assertNotDispatched(UserRegistered),
      () => Event.assertNothingDispatched(),
      () => Event.assertListening(OrderPlaced, SendReceipt),
      () => Event.dispatched(OrderPlaced),
    ]) {
      expect(assertion).toThrow(/needs a fake.*Event\.fake\(\)/)
    }
    // The real listener ran: nothing was faked.
    expect(calls).toEqual(['receipt:1'])
  })
})

// =============================================================================================
// These tests share one application and run in order: the first leaves its fake installed,
// the second proves tests/setup.ts took it away.

describe('a fake never leaks into the next test', () => {
  let shared: Application

  beforeAll(() => {
    shared = freshApplication()
    shared.make('events').listen(OrderPlaced, SendReceipt)
  })

  beforeEach(() => {
    setFacadeRoot(shared)
  })

  it('1. fakes without restoring', async () => {
    Event.fake()
    await Event.dispatch(new OrderPlaced(1, 100))
    expect(calls).toEqual([])
  })

  it('2. runs the real listeners', async () => {
    expect(shared.make('events').currentInterceptor).toBeNull()
    await Event.dispatch(new OrderPlaced(2, 200))
    expect(calls).toEqual(['receipt:2'])
  })

  it('3. fakes twice without restoring', async () => {
    Event.fake([OrderPlaced])
    Event.fake()
    await Event.dispatch(new OrderPlaced(3, 300))
    expect(calls).toEqual([])
  })

  it('4. runs the real listeners', async () => {
    expect(shared.make('events').currentInterceptor).toBeNull()
    await Event.dispatch(new OrderPlaced(4, 400))
    expect(calls).toEqual(['receipt:4'])
  })
})
