// The one dispatch path: the fake's guard and the defer check happen once per dispatch, a
// ShouldQueue event is held by defer like any other, and the worker's lookup of a queued
// listener follows registrations.
import { describe, expect, it } from 'vitest'
import { Dispatchable, Dispatcher, EventFake, ShouldQueue, type QueuedListenerGateway, type RegisteredListener } from 'herald'

class OrderPlaced extends Dispatchable {
  constructor(readonly orderId: number) {
    super()
  }
}

class OrderQueued extends ShouldQueue(Dispatchable) {
  constructor(readonly orderId: number) {
    super()
  }
}

class SendReceipt extends ShouldQueue(class {}) {
  handle(_event: OrderPlaced): void {}
}

/** A queue that records what it is handed. */
function recordingQueue(): QueuedListenerGateway & { pushed: string[] } {
  const pushed: string[] = []
  return {
    pushed,
    push: async (listener: RegisteredListener, eventName: string) => void pushed.push(`${listener.name}:${eventName}`),
    pushEvent: async (eventName: string) => void pushed.push(`event:${eventName}`),
  }
}

describe('the dispatch path', () => {
  it('shows a deferred dispatch to the fake once, when it is dispatched', async () => {
    const events = new Dispatcher()
    const seen: number[] = []
    events.listen(OrderPlaced, (event) => void seen.push(event.orderId))
    using fake = new EventFake(events, { except: [OrderPlaced] })
    await events.defer(async () => {
      await events.dispatch(new OrderPlaced(1))
      expect(seen).toEqual([])
    })
    expect(seen).toEqual([1])
    expect(fake.recorded.map((record) => record.name)).toEqual(['OrderPlaced'])
  })

  it('holds a ShouldQueue event in defer like any other event, and drops it when the callback throws', async () => {
    const events = new Dispatcher()
    const queue = recordingQueue()
    events.useQueue(queue)
    await events.defer(async () => {
      await events.dispatch(new OrderQueued(1))
      expect(queue.pushed).toEqual([])
    })
    expect(queue.pushed).toEqual(['event:OrderQueued'])
    await events
      .defer(async () => {
        await events.dispatch(new OrderQueued(2))
        throw new Error('rolled back')
      })
      .catch(() => undefined)
    expect(queue.pushed).toEqual(['event:OrderQueued'])
  })

  it('finds a queued listener by name for the worker, and forgets it with its event', () => {
    const events = new Dispatcher()
    expect(events.queuedListener('SendReceipt')).toBeUndefined()
    events.listen(OrderPlaced, SendReceipt)
    events.listen(OrderPlaced, () => undefined)
    expect(events.queuedListener('SendReceipt')).toMatchObject({ listener: SendReceipt, method: 'handle', queued: true })
    expect(events.queuedListener('Closure')).toBeUndefined()
    events.forget(OrderPlaced)
    expect(events.queuedListener('SendReceipt')).toBeUndefined()
  })

  it('replays queued listeners inline, one after another, even with a queue installed', async () => {
    const events = new Dispatcher()
    const queue = recordingQueue()
    events.useQueue(queue)
    const ran: string[] = []
    class First extends ShouldQueue(class {}) {
      async handle(): Promise<void> {
        await new Promise((resolve) => setImmediate(resolve))
        ran.push('first')
      }
    }
    class Second extends ShouldQueue(class {}) {
      handle(): void {
        ran.push('second')
      }
    }
    events.listen(OrderPlaced, First)
    events.listen(OrderPlaced, Second)
    await events.replay('OrderPlaced', new OrderPlaced(1))
    expect(ran).toEqual(['first', 'second'])
    expect(queue.pushed).toEqual([])
    await events.dispatch(new OrderPlaced(2))
    expect(queue.pushed).toEqual(['First:OrderPlaced', 'Second:OrderPlaced'])
  })
  it('with a queue installed, pushes queued listeners side by side together and still stops at a false', async () => {
    const events = new Dispatcher()
    const queue = recordingQueue()
    events.useQueue(queue)
    class Second extends ShouldQueue(class {}) {
      handle(): void {}
    }
    const ran: string[] = []
    events.listen(OrderPlaced, SendReceipt)
    events.listen(OrderPlaced, Second)
    events.listen(OrderPlaced, () => void ran.push('inline'))
    events.listen(OrderPlaced, () => false)
    events.listen(OrderPlaced, () => void ran.push('after false'))
    const responses = await events.dispatch(new OrderPlaced(1))
    expect(queue.pushed).toEqual(['SendReceipt:OrderPlaced', 'Second:OrderPlaced'])
    expect(ran).toEqual(['inline'])
    expect(responses).toHaveLength(3)
  })
})

describe('subscribing instances', () => {
  it('registers two instances of one subscriber class (two feeds), each once', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    class Feed {
      constructor(readonly label: string) {}
      subscribe(dispatcher: Dispatcher) {
        dispatcher.listen('x', () => void seen.push(this.label))
      }
    }
    const first = new Feed('first')
    events.subscribe(first)
    events.subscribe(new Feed('second'))
    events.subscribe(first)
    await events.dispatch('x')
    expect(seen).toEqual(['first', 'second'])
  })
})
