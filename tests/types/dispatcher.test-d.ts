/**
 * Type tests: the event → payload relation is carried by the types, so a listener for the wrong
 * event is a compile error. Run by vitest's typecheck mode (not executed); every
 * `@ts-expect-error` line fails the run if the error it expects goes away.
 */
import { describe, expectTypeOf, test } from 'vitest'
import { Dispatchable, Dispatcher, Event, EventFake, Listener, type EventKey } from 'herald'

// String events are typed by augmenting EventsList. The augmentation targets 'herald', the
// module application code imports; it merges into the interface declared in
// src/events/types.ts because src/index.ts re-exports it. An augmentation is global to the
// compilation (`tsc -p .` checks src/, app/ and every test together), so the name is one no
// other file uses: declaring plain 'task.completed' here would retype it in other tests.
declare module 'herald' {
  interface EventsList {
    'types.task.completed': { id: number }
  }
}

class OrderPlaced extends Dispatchable {
  constructor(
    readonly orderId: number,
    readonly total: number,
  ) {
    super()
  }
}

class BigOrderPlaced extends OrderPlaced {
  readonly big = true as const
}

class UserRegistered {
  constructor(readonly email: string) {}
}

const events = new Dispatcher()

describe('Listener.for(...)', () => {
  test('handle is typed by the declared event', () => {
    const Base = Listener.for(OrderPlaced)
    expectTypeOf<Parameters<InstanceType<typeof Base>['handle']>>().toEqualTypeOf<[event: OrderPlaced]>()
    expectTypeOf(Base.events).toEqualTypeOf<readonly EventKey[]>()

    const Both = Listener.for(OrderPlaced, UserRegistered)
    expectTypeOf<Parameters<InstanceType<typeof Both>['handle']>>().toEqualTypeOf<
      [event: OrderPlaced | UserRegistered]
    >()

    const Task = Listener.for('types.task.completed')
    expectTypeOf<Parameters<InstanceType<typeof Task>['handle']>>().toEqualTypeOf<[event: { id: number }]>()

    const Wild = Listener.for('orders.*')
    expectTypeOf<Parameters<InstanceType<typeof Wild>['handle']>>().toEqualTypeOf<
      [eventName: string, event: unknown]
    >()
  })

  test('a handle that takes the declared event compiles and can be registered', () => {
    class SendReceipt extends Listener.for(OrderPlaced) {
      handle(event: OrderPlaced) {
        return event.orderId
      }
    }
    class Audit extends Listener.for(OrderPlaced, UserRegistered) {
      handle(event: OrderPlaced | UserRegistered) {
        return event
      }
    }
    events.listen(OrderPlaced, SendReceipt)
    events.listen([OrderPlaced, UserRegistered], Audit)
    Event.listen(OrderPlaced, SendReceipt)
  })

  test('a handle that takes an unrelated event type is a compile error', () => {
    class WrongEvent extends Listener.for(OrderPlaced) {
      // @ts-expect-error UserRegistered is not the OrderPlaced this listener declared
      handle(event: UserRegistered) {
        return event.email
      }
    }
    class WrongPayload extends Listener.for('types.task.completed') {
      // @ts-expect-error types.task.completed carries { id: number }
      handle(task: { id: string }) {
        return task.id
      }
    }
    class WrongWildcard extends Listener.for('orders.*') {
      // @ts-expect-error a wildcard listener receives (eventName: string, event: unknown)
      handle(eventName: number) {
        return eventName
      }
    }
    expectTypeOf([WrongEvent, WrongPayload, WrongWildcard]).not.toBeNever()
  })
})

describe('listen() with class events', () => {
  test('a function listener receives the event type', () => {
    events.listen(OrderPlaced, (event) => {
      expectTypeOf(event).toEqualTypeOf<OrderPlaced>()
    })
    Event.listen(OrderPlaced, (event) => {
      expectTypeOf(event).toEqualTypeOf<OrderPlaced>()
    })
    events.listen([OrderPlaced, UserRegistered], (event) => {
      expectTypeOf(event).toEqualTypeOf<OrderPlaced | UserRegistered>()
    })
  })

  test('a function listener taking the wrong type is a compile error', () => {
    // @ts-expect-error the listener wants a UserRegistered
    events.listen(OrderPlaced, (event: UserRegistered) => event.email)
    // @ts-expect-error narrower than the event: not every OrderPlaced is a BigOrderPlaced
    events.listen(OrderPlaced, (event: BigOrderPlaced) => event.big)
    // @ts-expect-error the same through the facade
    Event.listen(OrderPlaced, (event: UserRegistered) => event.email)
    // @ts-expect-error a list of events: the listener must take every one of them
    events.listen([OrderPlaced, UserRegistered], (event: OrderPlaced) => event.orderId)
  })

  test('a listener class whose handle takes a wrong or narrower type is a compile error', () => {
    class HandlesUser {
      handle(event: UserRegistered) {
        return event.email
      }
    }
    class HandlesBigOrder {
      handle(event: BigOrderPlaced) {
        return event.big
      }
    }
    // Method parameters are bivariant, so this declaration compiles; listen() still rejects it.
    class NarrowListener extends Listener.for(OrderPlaced) {
      handle(event: BigOrderPlaced) {
        return event.big
      }
    }
    class HandlesOrder {
      handle(event: OrderPlaced) {
        return event.orderId
      }
    }
    class HandlesAnything {
      handle(event: unknown) {
        return event
      }
    }

    // @ts-expect-error handle wants a UserRegistered
    events.listen(OrderPlaced, HandlesUser)
    // @ts-expect-error handle wants a BigOrderPlaced
    events.listen(OrderPlaced, HandlesBigOrder)
    // @ts-expect-error handle wants a BigOrderPlaced
    events.listen(OrderPlaced, NarrowListener)
    // @ts-expect-error the same through the facade
    Event.listen(OrderPlaced, HandlesUser)

    events.listen(OrderPlaced, HandlesOrder)
    events.listen(BigOrderPlaced, HandlesOrder)
    events.listen(OrderPlaced, HandlesAnything)
  })

  test('a subscriber class routed by method name is accepted', () => {
    class OrderSubscriber {
      handleOrderPlaced(event: OrderPlaced) {
        return event.orderId
      }
    }
    events.listen(OrderPlaced, OrderSubscriber)
  })
})

describe('string events through EventsList', () => {
  test('listen() infers the payload', () => {
    events.listen('types.task.completed', (task) => {
      expectTypeOf(task).toEqualTypeOf<{ id: number }>()
    })
    Event.listen('types.task.completed', (task) => {
      expectTypeOf(task).toEqualTypeOf<{ id: number }>()
    })
  })

  test('dispatch(), until() and listen() check the payload', () => {
    events.dispatch('types.task.completed', { id: 1 })
    Event.dispatch('types.task.completed', { id: 1 })

    // @ts-expect-error id is a number
    events.dispatch('types.task.completed', { id: 'x' })
    // @ts-expect-error the same through the facade
    Event.dispatch('types.task.completed', { id: 'x' })
    // @ts-expect-error the payload is required
    events.dispatch('types.task.completed')
    // @ts-expect-error id is a number
    events.until('types.task.completed', { id: 'x' })
    // @ts-expect-error the listener wants { id: string }
    events.listen('types.task.completed', (task: { id: string }) => task.id)
  })

  test('names not in EventsList carry unknown payloads', () => {
    events.listen('invoice.paid', (payload) => {
      expectTypeOf(payload).toEqualTypeOf<unknown>()
    })
    events.dispatch('invoice.paid', { anything: true })
    events.dispatch('invoice.paid')
  })
})

describe('wildcard listeners', () => {
  test('receive (eventName: string, event: unknown)', () => {
    events.listen('orders.*', (eventName, event) => {
      expectTypeOf(eventName).toEqualTypeOf<string>()
      expectTypeOf(event).toEqualTypeOf<unknown>()
    })
    events.listen('*.created', (eventName, event) => {
      expectTypeOf(eventName).toEqualTypeOf<string>()
      expectTypeOf(event).toEqualTypeOf<unknown>()
    })
    Event.listen('*', (eventName, event) => {
      expectTypeOf(eventName).toEqualTypeOf<string>()
      expectTypeOf(event).toEqualTypeOf<unknown>()
    })
    class AuditLog {
      handle(eventName: string, event: unknown) {
        return [eventName, event]
      }
    }
    events.listen('orders.*', AuditLog)
  })

  test('a wildcard listener that expects the event first is a compile error', () => {
    // @ts-expect-error the first argument is the event name
    events.listen('orders.*', (event: OrderPlaced) => event.orderId)
  })
})

describe('dispatching', () => {
  test('static dispatch() requires the constructor argument types', () => {
    expectTypeOf(OrderPlaced.dispatch(1, 100)).toEqualTypeOf<Promise<unknown[]>>()
    expectTypeOf(OrderPlaced.dispatchIf(true, 1, 100)).toEqualTypeOf<Promise<unknown[]>>()
    expectTypeOf(OrderPlaced.dispatchUnless(false, 1, 100)).toEqualTypeOf<Promise<unknown[]>>()

    // @ts-expect-error orderId is a number
    OrderPlaced.dispatch('1', 100)
    // @ts-expect-error total is missing
    OrderPlaced.dispatch(1)
    // @ts-expect-error one argument too many
    OrderPlaced.dispatch(1, 100, 'extra')
    // @ts-expect-error orderId is a number
    OrderPlaced.dispatchIf(true, '1', 100)
  })

  test('dispatch() resolves to the responses, until() to unknown', () => {
    expectTypeOf(events.dispatch(new OrderPlaced(1, 100))).toEqualTypeOf<Promise<unknown[]>>()
    expectTypeOf(events.until(new OrderPlaced(1, 100))).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(events.until('types.task.completed', { id: 1 })).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(Event.until(new OrderPlaced(1, 100))).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(Event.dispatch(new OrderPlaced(1, 100))).toEqualTypeOf<Promise<unknown[]>>()
  })
})

describe('fakes', () => {
  test('dispatched() returns the event type', () => {
    const fake = Event.fake()
    expectTypeOf(fake).toEqualTypeOf<EventFake>()
    expectTypeOf(fake).toExtend<Disposable>()
    expectTypeOf(fake.dispatched(OrderPlaced)).toEqualTypeOf<OrderPlaced[]>()
    expectTypeOf(Event.dispatched(OrderPlaced)).toEqualTypeOf<OrderPlaced[]>()
    expectTypeOf(fake.dispatched('types.task.completed')).toEqualTypeOf<{ id: number }[]>()
    expectTypeOf(fake.dispatched('invoice.paid')).toEqualTypeOf<unknown[]>()
  })

  test('predicates receive the event type', () => {
    const fake = Event.fake()
    fake.assertDispatched(OrderPlaced, (event) => {
      expectTypeOf(event).toEqualTypeOf<OrderPlaced>()
      return event.total > 100
    })
    Event.assertDispatched(OrderPlaced, (event) => {
      expectTypeOf(event).toEqualTypeOf<OrderPlaced>()
      return event.orderId === 1
    })
    Event.assertNotDispatched(OrderPlaced, (event) => {
      expectTypeOf(event).toEqualTypeOf<OrderPlaced>()
      return event.orderId === 2
    })
    Event.dispatched(OrderPlaced, (event) => {
      expectTypeOf(event).toEqualTypeOf<OrderPlaced>()
      return true
    })
    Event.assertDispatched('types.task.completed', (task) => {
      expectTypeOf(task).toEqualTypeOf<{ id: number }>()
      return task.id === 1
    })
    Event.assertDispatched(OrderPlaced, 2)

    // @ts-expect-error OrderPlaced has no email
    Event.assertDispatched(OrderPlaced, (event) => event.email === 'x')
    // @ts-expect-error the predicate must accept an OrderPlaced
    fake.assertNotDispatched(OrderPlaced, (event: UserRegistered) => event.email === 'x')
  })

  test('fakeFor() passes the fake and resolves to the callback result', () => {
    expectTypeOf(
      Event.fakeFor(async (fake) => {
        expectTypeOf(fake).toEqualTypeOf<EventFake>()
        return 42
      }),
    ).toEqualTypeOf<Promise<number>>()
  })
})

describe('contract wrappers keep the class usable', () => {
  test('a ShouldBroadcast event keeps Dispatchable statics and its constructor types', async () => {
    const { ShouldBroadcast, ShouldDispatchAfterCommit, Dispatchable: Base, Channel } = await import('herald')
    class Shipped extends ShouldBroadcast(ShouldDispatchAfterCommit(Base)) {
      constructor(readonly id: number) {
        super()
      }
      broadcastOn() {
        return new Channel('orders')
      }
    }
    expectTypeOf(Shipped.dispatch).toBeFunction()
    // @ts-expect-error the constructor takes a number
    void Shipped.dispatch('one')
    expectTypeOf(new Shipped(1).id).toEqualTypeOf<number>()
  })
})
