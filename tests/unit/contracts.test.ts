import { describe, expect, it } from 'vitest'
import {
  Channel,
  Dispatchable,
  Dispatcher,
  Listener,
  PresenceChannel,
  PrivateChannel,
  ShouldBroadcast,
  ShouldBroadcastNow,
  ShouldDispatchAfterCommit,
  ShouldQueue,
  isShouldBroadcast,
  isShouldBroadcastNow,
  isShouldDispatchAfterCommit,
  isShouldQueue,
  type RegisteredListener,
} from 'herald'

class OrderPlaced extends ShouldBroadcast(ShouldDispatchAfterCommit(Dispatchable)) {
  constructor(readonly orderId: number) {
    super()
  }
  broadcastOn() {
    return [new Channel('orders'), new PrivateChannel(`orders.${this.orderId}`)]
  }
}
class Pinged extends ShouldBroadcastNow(Dispatchable) {
  broadcastOn() {
    return new PresenceChannel('chat.1')
  }
}
class Plain extends Dispatchable {}

class SendReceipt extends ShouldQueue(Listener.for(OrderPlaced)) {
  queue = 'emails'
  handle(event: OrderPlaced) {
    return `receipt ${event.orderId}`
  }
}

describe('contracts', () => {
  it('are detectable at run time from the one extends clause, on classes and instances', () => {
    expect(isShouldBroadcast(OrderPlaced)).toBe(true)
    expect(isShouldBroadcast(new OrderPlaced(1))).toBe(true)
    expect(isShouldDispatchAfterCommit(OrderPlaced)).toBe(true)
    expect(isShouldBroadcastNow(OrderPlaced)).toBe(false)
    expect(isShouldBroadcastNow(Pinged)).toBe(true)
    expect(isShouldBroadcast(Pinged)).toBe(true)
    expect(isShouldQueue(SendReceipt)).toBe(true)
    expect(isShouldQueue(Plain)).toBe(false)
    expect(isShouldBroadcast(Plain)).toBe(false)
    expect(isShouldDispatchAfterCommit(new Plain())).toBe(false)
  })

  it('keep the event’s own name, and their wrapper classes are not events', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    events.listen('*', (name) => void seen.push(name))
    await events.dispatch(new OrderPlaced(1))
    expect(seen).toEqual(['OrderPlaced'])
    expect(events.getListeners(OrderPlaced).map((l) => l.event)).toEqual(['*'])
  })

  it('name channels as Laravel Echo expects', () => {
    expect(new OrderPlaced(7).broadcastOn().map(String)).toEqual(['orders', 'private-orders.7'])
    expect(new Pinged().broadcastOn().wireName).toBe('presence-chat.1')
  })
})

describe('queued listeners', () => {
  it('are marked queued and, with no queue installed, run in the dispatch like the sync connection', async () => {
    const events = new Dispatcher()
    events.listen(OrderPlaced, SendReceipt)
    expect(events.getListeners(OrderPlaced).map((l) => [l.name, l.queued])).toEqual([['SendReceipt', true]])
    expect(await events.dispatch(new OrderPlaced(3))).toEqual(['receipt 3'])
  })

  it('go to the installed queue gateway instead of running', async () => {
    const events = new Dispatcher()
    const pushed: Array<[string, string, unknown]> = []
    events.useQueue({
      async push(listener: RegisteredListener, eventName: string, event: unknown) {
        pushed.push([listener.name, eventName, event])
        return 'job-1'
      },
      async pushEvent() {
        throw new Error('no ShouldQueue event is dispatched here')
      },
    })
    const sync: string[] = []
    events.listen(OrderPlaced, SendReceipt)
    events.listen(OrderPlaced, () => void sync.push('sync ran'))
    const event = new OrderPlaced(4)
    expect(await events.dispatch(event)).toEqual(['job-1', undefined])
    expect(pushed).toEqual([['SendReceipt', 'OrderPlaced', event]])
    expect(sync).toEqual(['sync ran'])
  })
})
