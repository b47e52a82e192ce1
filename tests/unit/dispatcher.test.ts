import { describe, expect, it } from 'vitest'
import { Dispatchable, Dispatcher, Listener, Subscriber, createApplication, setFacadeRoot, type WildcardPattern } from 'herald'

class OrderPlaced {
  constructor(public readonly orderId: number) {}
}
class OrderShipped extends Dispatchable {
  constructor(
    public readonly orderId: number,
    public readonly carrier: string,
  ) {
    super()
  }
}
class ExpressOrderShipped extends OrderShipped {}
class Renamed {
  static readonly eventName = 'orders.renamed'
}

function recorder() {
  const calls: string[] = []
  return { calls, note: (label: string) => () => void calls.push(label) }
}

function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

describe('listen and dispatch', () => {
  it('runs class, function and string listeners in registration order and returns their responses', async () => {
    const events = new Dispatcher()
    const { calls } = recorder()
    class First {
      handle(event: OrderPlaced) {
        calls.push(`class ${event.orderId}`)
        return 'first'
      }
    }
    events.listen(OrderPlaced, First)
    events.listen(OrderPlaced, async (event) => {
      await Promise.resolve()
      calls.push(`async ${event.orderId}`)
      return 'second'
    })
    events.listen('OrderPlaced', () => 'third')
    const responses = await events.dispatch(new OrderPlaced(7))
    expect(calls).toEqual(['class 7', 'async 7'])
    expect(responses).toEqual(['first', 'second', 'third'])
  })

  it('dispatches string events with their payload', async () => {
    const events = new Dispatcher()
    const seen: unknown[] = []
    events.listen('task.completed', (payload) => void seen.push(payload))
    await events.dispatch('task.completed', { id: 3 })
    expect(seen).toEqual([{ id: 3 }])
  })

  it('awaits each listener before starting the next', async () => {
    const events = new Dispatcher()
    const gate = deferred()
    const calls: string[] = []
    events.listen('slow', async () => {
      await gate.promise
      calls.push('slow done')
    })
    events.listen('slow', () => void calls.push('second'))
    const dispatching = events.dispatch('slow')
    await Promise.resolve()
    expect(calls).toEqual([])
    gate.resolve()
    await dispatching
    expect(calls).toEqual(['slow done', 'second'])
  })

  it('stops the remaining listeners when one returns false', async () => {
    const events = new Dispatcher()
    const { calls, note } = recorder()
    events.listen(OrderPlaced, note('a'))
    events.listen(OrderPlaced, () => false)
    events.listen(OrderPlaced, note('c'))
    const responses = await events.dispatch(new OrderPlaced(1))
    expect(calls).toEqual(['a'])
    expect(responses).toEqual([undefined])
  })

  it('stops on a false that an async listener resolves to', async () => {
    const events = new Dispatcher()
    const { calls, note } = recorder()
    events.listen('x', async () => false)
    events.listen('x', note('never'))
    await events.dispatch('x')
    expect(calls).toEqual([])
  })

  it('uses static eventName over the class name', async () => {
    const events = new Dispatcher()
    const seen: unknown[] = []
    events.listen('orders.renamed', (event) => void seen.push(event))
    const event = new Renamed()
    await events.dispatch(event)
    expect(seen).toEqual([event])
    expect(events.hasListeners(Renamed)).toBe(true)
  })

  it('runs listeners of parent event classes for a subclass event', async () => {
    const events = new Dispatcher()
    const { calls, note } = recorder()
    events.listen(OrderShipped, note('parent'))
    events.listen(ExpressOrderShipped, note('child'))
    await events.dispatch(new ExpressOrderShipped(1, 'ups'))
    await events.dispatch(new OrderShipped(2, 'dhl'))
    expect(calls).toEqual(['parent', 'child', 'parent'])
  })

  it('listens to an array of events', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    events.listen([OrderPlaced, 'task.completed'], (event) => void seen.push(String(event instanceof OrderPlaced)))
    await events.dispatch(new OrderPlaced(1))
    await events.dispatch('task.completed', {})
    expect(seen).toEqual(['true', 'false'])
  })

  it('sees listeners added after a dispatch (the resolution cache is invalidated)', async () => {
    const events = new Dispatcher()
    const { calls, note } = recorder()
    events.listen(OrderPlaced, note('a'))
    await events.dispatch(new OrderPlaced(1))
    events.listen(OrderPlaced, note('b'))
    events.listen('*', note('wild'))
    await events.dispatch(new OrderPlaced(2))
    events.forget(OrderPlaced)
    await events.dispatch(new OrderPlaced(3))
    expect(calls).toEqual(['a', 'a', 'b', 'wild', 'wild'])
  })

  it('constructs a listener class once and keeps it', async () => {
    const events = new Dispatcher()
    let constructed = 0
    class Counter {
      count = 0
      constructor() {
        constructed++
      }
      handle() {
        return ++this.count
      }
    }
    events.listen(OrderPlaced, Counter)
    expect(await events.dispatch(new OrderPlaced(1))).toEqual([1])
    expect(await events.dispatch(new OrderPlaced(2))).toEqual([2])
    expect(constructed).toBe(1)
  })

  it('rejects a listener that is neither a function nor a class', () => {
    const events = new Dispatcher()
    expect(() => events.listen('x', 42 as never)).toThrow('Listener for "x" must be a function or a class, got number.')
  })
})

describe('duplicates', () => {
  it('ignores the same listener registered twice for the same event, with a debug note', async () => {
    const notes: string[] = []
    const events = new Dispatcher({ debug: (message) => notes.push(message) })
    let runs = 0
    class SendReceipt {
      handle() {
        runs++
      }
    }
    const fn = () => void runs++
    events.listen(OrderPlaced, SendReceipt)
    events.listen(OrderPlaced, SendReceipt)
    events.listen('OrderPlaced', SendReceipt)
    events.listen(OrderPlaced, fn)
    events.listen(OrderPlaced, fn)
    events.listen('orders.*', fn)
    events.listen('orders.*', fn)
    await events.dispatch(new OrderPlaced(1))
    expect(runs).toBe(2)
    expect(events.getListeners(OrderPlaced)).toHaveLength(2)
    expect(notes).toEqual([
      'Listener "SendReceipt" is already registered for "OrderPlaced"; ignored.',
      'Listener "SendReceipt" is already registered for "OrderPlaced"; ignored.',
      'Listener "fn" is already registered for "OrderPlaced"; ignored.',
      'Listener "fn" is already registered for "orders.*"; ignored.',
    ])
  })

  it('registers the same listener for two different events', async () => {
    const events = new Dispatcher()
    const fn = () => 'ok'
    events.listen('a', fn)
    events.listen('b', fn)
    expect(await events.dispatch('a')).toEqual(['ok'])
    expect(await events.dispatch('b')).toEqual(['ok'])
  })
})

describe('until, dispatchIf, dispatchUnless, static dispatch', () => {
  it('until returns the first response that is not null or undefined and stops there', async () => {
    const events = new Dispatcher()
    const { calls, note } = recorder()
    events.listen('price', () => null)
    events.listen('price', () => undefined)
    events.listen('price', () => 42)
    events.listen('price', note('never'))
    expect(await events.until('price')).toBe(42)
    expect(calls).toEqual([])
    expect(await events.until('nobody')).toBeUndefined()
  })

  it('dispatchIf and dispatchUnless follow the condition', async () => {
    const events = new Dispatcher()
    const { calls, note } = recorder()
    events.listen(OrderPlaced, note('ran'))
    expect(await events.dispatchIf(false, new OrderPlaced(1))).toEqual([])
    await events.dispatchUnless(true, new OrderPlaced(1))
    expect(calls).toEqual([])
    await events.dispatchIf(true, new OrderPlaced(1))
    await events.dispatchUnless(0, new OrderPlaced(1))
    expect(calls).toEqual(['ran', 'ran'])
  })

  it('OrderShipped.dispatch(...args) constructs and dispatches through the facade root', async () => {
    const app = createApplication({ loadConfig: false })
    setFacadeRoot(app)
    try {
      const seen: OrderShipped[] = []
      app.make('events').listen(OrderShipped, (event) => void seen.push(event))
      await OrderShipped.dispatch(5, 'ups')
      await OrderShipped.dispatchIf(false, 6, 'dhl')
      await OrderShipped.dispatchUnless(false, 7, 'fedex')
      expect(seen.map((event) => [event.orderId, event.carrier])).toEqual([
        [5, 'ups'],
        [7, 'fedex'],
      ])
      expect(seen[0]).toBeInstanceOf(OrderShipped)
    } finally {
      setFacadeRoot(null)
    }
  })
})

describe('wildcards', () => {
  const cases: Array<[WildcardPattern, string, boolean]> = [
    ['orders.*', 'orders.created', true],
    ['orders.*', 'orders.item.added', true],
    ['orders.*', 'orders', false],
    ['orders.*', 'users.created', false],
    ['*.created', 'users.created', true],
    ['*.created', 'users.created.late', false],
    ['*', 'anything', true],
    ['*', 'OrderPlaced', true],
    ['order?.*', 'orders.created', false],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.c', false],
  ]
  it.each(cases)('%s matching %s is %s', async (pattern, name, matches) => {
    const events = new Dispatcher()
    const seen: string[] = []
    events.listen(pattern, (eventName) => void seen.push(eventName))
    await events.dispatch(name)
    expect(seen).toEqual(matches ? [name] : [])
    expect(events.hasWildcardListeners(name)).toBe(matches)
  })

  it('receives (eventName, event) and runs in registration order with exact listeners', async () => {
    const events = new Dispatcher()
    const calls: unknown[] = []
    events.listen('*', (name, event) => void calls.push(['wild', name, event]))
    events.listen(OrderPlaced, (event) => void calls.push(['exact', event.orderId]))
    const event = new OrderPlaced(9)
    await events.dispatch(event)
    expect(calls).toEqual([
      ['wild', 'OrderPlaced', event],
      ['exact', 9],
    ])
  })

  it('calls handle(eventName, event) on a wildcard listener class', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    class Audit {
      handle(name: string, event: unknown) {
        seen.push(`${name}:${JSON.stringify(event)}`)
      }
    }
    events.listen('user.*', Audit)
    await events.dispatch('user.login', { id: 1 })
    expect(seen).toEqual(['user.login:{"id":1}'])
  })

  it('requires handle on a wildcard listener class', () => {
    const events = new Dispatcher()
    class NoHandle {}
    expect(() => events.listen('user.*', NoHandle)).toThrow(
      'Listener "NoHandle" for "user.*" needs a handle(eventName, event) method.',
    )
  })
})

describe('error policy', () => {
  it('runs every listener, then rejects with one AggregateError naming the event and the failed listeners', async () => {
    const events = new Dispatcher()
    const { calls, note } = recorder()
    class ChargeCard {
      handle() {
        throw new Error('card declined')
      }
    }
    events.listen(OrderPlaced, ChargeCard)
    events.listen(OrderPlaced, note('after first failure'))
    events.listen(OrderPlaced, async function notifySlack() {
      throw new Error('slack down')
    })
    events.listen(OrderPlaced, note('last'))
    const error = await events.dispatch(new OrderPlaced(1)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AggregateError)
    expect((error as AggregateError).message).toBe(
      '2 listeners failed for event "OrderPlaced": ChargeCard (card declined), notifySlack (slack down)',
    )
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['card declined', 'slack down'])
    expect(calls).toEqual(['after first failure', 'last'])
  })

  it('sends errors to onError instead, with the event and the listener', async () => {
    const events = new Dispatcher()
    const seen: unknown[] = []
    events.onError((error, event, listener) => {
      seen.push([(error as Error).message, event, listener.name, listener.event])
    })
    events.listen('x', function broken() {
      throw new Error('boom')
    })
    events.listen('x', () => 'still runs')
    expect(await events.dispatch('x', { n: 1 })).toEqual(['still runs'])
    expect(seen).toEqual([['boom', { n: 1 }, 'broken', 'x']])
    events.onError(null)
    await expect(events.dispatch('x')).rejects.toThrow('1 listener failed for event "x": broken (boom)')
  })

  it('reports an onError handler that throws', async () => {
    const events = new Dispatcher()
    events.onError(() => {
      throw new Error('handler broke')
    })
    events.listen('x', () => {
      throw new Error('boom')
    })
    await expect(events.dispatch('x')).rejects.toThrow('1 listener failed for event "x": Closure (handler broke)')
  })

  it('reports failures even when a later listener stops propagation', async () => {
    const events = new Dispatcher()
    events.listen('x', () => {
      throw new Error('first')
    })
    events.listen('x', () => false)
    await expect(events.dispatch('x')).rejects.toThrow('first')
  })
})

describe('introspection', () => {
  it('hasListeners, getListeners, forget and flush', () => {
    const events = new Dispatcher()
    class SendReceipt {
      handle() {}
    }
    expect(events.hasListeners(OrderPlaced)).toBe(false)
    events.listen(OrderPlaced, SendReceipt)
    events.listen('orders.*', function audit() {})
    expect(events.hasListeners(OrderPlaced)).toBe(true)
    expect(events.hasListeners('orders.created')).toBe(true)
    expect(events.hasListeners('users.created')).toBe(false)
    expect(events.hasWildcardListeners('orders.created')).toBe(true)
    expect(events.hasWildcardListeners(OrderPlaced)).toBe(false)
    expect(events.getListeners(OrderPlaced)).toEqual([
      { event: 'OrderPlaced', name: 'SendReceipt', listener: SendReceipt, method: 'handle', wildcard: false, queued: false },
    ])
    expect([...events.getListeners().keys()]).toEqual(['OrderPlaced', 'orders.*'])
    events.forget('orders.*')
    expect(events.hasListeners('orders.created')).toBe(false)
    expect(events.hasListeners(OrderPlaced)).toBe(true)
    events.flush()
    expect(events.hasListeners(OrderPlaced)).toBe(false)
    expect(events.getListeners().size).toBe(0)
  })
})

describe('subscribers', () => {
  it('subscribe(Class) calls its subscribe(events) and names its closures after it', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    class UserEvents {
      subscribe(dispatcher: Dispatcher) {
        dispatcher.listen('user.login', () => void seen.push('login'))
        dispatcher.listen('user.logout', () => void seen.push('logout'))
      }
    }
    events.subscribe(UserEvents)
    await events.dispatch('user.logout')
    await events.dispatch('user.login')
    expect(seen).toEqual(['logout', 'login'])
    expect(events.getListeners('user.login')[0]?.name).toBe('UserEvents')
  })

  it('routes declared events to handle<EventName> methods', async () => {
    const events = new Dispatcher()
    const seen: unknown[] = []
    class OrderSubscriber extends Subscriber.for(OrderShipped, 'task.completed') {
      handleOrderShipped(event: OrderShipped) {
        seen.push(['shipped', event.carrier, this instanceof OrderSubscriber])
      }
      handleTaskCompleted(task: { id: number }) {
        seen.push(['task', task.id])
      }
    }
    events.subscribe(OrderSubscriber)
    await events.dispatch(new OrderShipped(1, 'ups'))
    await events.dispatch('task.completed', { id: 4 })
    expect(seen).toEqual([
      ['shipped', 'ups', true],
      ['task', 4],
    ])
    expect(events.getListeners('task.completed')[0]?.method).toBe('handleTaskCompleted')
  })

  it('routes a listener class without handle passed to listen()', async () => {
    const events = new Dispatcher()
    const seen: number[] = []
    class Routed {
      handleOrderPlaced(event: OrderPlaced) {
        seen.push(event.orderId)
      }
    }
    events.listen(OrderPlaced, Routed)
    await events.dispatch(new OrderPlaced(8))
    expect(seen).toEqual([8])
  })

  it('names the missing method when routing fails', () => {
    const events = new Dispatcher()
    class Wrong extends Subscriber.for('task.completed') {}
    expect(() => events.subscribe(Wrong)).toThrow(
      'Listener "Wrong" has no handle() or handleTaskCompleted() method for event "task.completed".',
    )
    class Nothing {}
    expect(() => events.subscribe(Nothing)).toThrow(
      'Subscriber "Nothing" has neither a subscribe(events) method nor static events.',
    )
  })

  it('subscribing the same class twice is a no-op with a debug note', async () => {
    const notes: string[] = []
    const events = new Dispatcher({ debug: (message) => notes.push(message) })
    let runs = 0
    class Once {
      subscribe(dispatcher: Dispatcher) {
        dispatcher.listen('x', () => void runs++)
      }
    }
    events.subscribe(Once)
    events.subscribe(new Once())
    await events.dispatch('x')
    expect(runs).toBe(1)
    expect(notes).toEqual(['Subscriber "Once" is already subscribed; ignored.'])
  })

  it('Listener.for declares the events on the class', () => {
    class SendReceipt extends Listener.for(OrderPlaced, 'orders.manual') {
      handle() {}
    }
    expect(SendReceipt.events).toEqual([OrderPlaced, 'orders.manual'])
  })
})

describe('defer', () => {
  it('holds dispatches until the callback resolves, then dispatches them in order', async () => {
    const events = new Dispatcher()
    const seen: number[] = []
    events.listen(OrderPlaced, (event) => void seen.push(event.orderId))
    const result = await events.defer(async () => {
      await events.dispatch(new OrderPlaced(1))
      await events.dispatch(new OrderPlaced(2))
      expect(seen).toEqual([])
      return 'done'
    })
    expect(result).toBe('done')
    expect(seen).toEqual([1, 2])
  })

  it('drops the held dispatches when the callback throws', async () => {
    const events = new Dispatcher()
    const seen: number[] = []
    events.listen(OrderPlaced, (event) => void seen.push(event.orderId))
    await expect(
      events.defer(async () => {
        await events.dispatch(new OrderPlaced(1))
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    await events.dispatch(new OrderPlaced(2))
    expect(seen).toEqual([2])
  })

  it('holds only the named events when given a list', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    events.listen('*', (name) => void seen.push(name))
    await events.defer(async () => {
      await events.dispatch('held')
      await events.dispatch('passes')
      expect(seen).toEqual(['passes'])
    }, ['held'])
    expect(seen).toEqual(['passes', 'held'])
  })

  it('does not hold a concurrent caller’s events', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    events.listen('*', (name) => void seen.push(name))
    const gate = deferred()
    const deferring = events.defer(async () => {
      await events.dispatch('inside')
      await gate.promise
    })
    await events.dispatch('outside')
    expect(seen).toEqual(['outside'])
    gate.resolve()
    await deferring
    expect(seen).toEqual(['outside', 'inside'])
  })
})

describe('settled', () => {
  it('resolves immediately when nothing runs', async () => {
    const events = new Dispatcher()
    await expect(events.settled()).resolves.toBeUndefined()
  })

  it('resolves once listeners of un-awaited dispatches have finished', async () => {
    const events = new Dispatcher()
    const gate = deferred()
    const done: string[] = []
    events.listen('job', async () => {
      await gate.promise
      done.push('job')
    })
    const pending = events.dispatch('job')
    let settled = false
    const waiting = events.settled().then(() => (settled = true))
    await Promise.resolve()
    expect(settled).toBe(false)
    gate.resolve()
    await waiting
    expect(done).toEqual(['job'])
    await pending
  })
})
