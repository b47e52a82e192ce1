import { describe, expect, it } from 'vitest'
import { Dispatcher, ShouldBroadcast, ShouldQueue, Listener, Subscriber, withEventContext, type BroadcastGateway, type DispatchRecord, type QueuedListenerGateway } from 'herald'

class OrderPlaced extends ShouldBroadcast(ShouldQueue(class {})) {
  constructor(readonly orderId: number) {
    super()
  }
  broadcastOn() {
    return []
  }
}

describe('Dispatcher.replay', () => {
  it('runs the listeners here, queued ones inline, without queueing or broadcasting the event; middleware sees a replay', async () => {
    const events = new Dispatcher()
    const sent: string[] = []
    const gateway: QueuedListenerGateway & BroadcastGateway = {
      push: async (listener) => sent.push(`queued ${listener.name}`),
      pushEvent: async (name) => sent.push(`queued event ${name}`),
      broadcast: async (name) => sent.push(`broadcast ${name}`),
    }
    events.useQueue(gateway)
    events.useBroadcaster(gateway)
    const records: DispatchRecord[] = []
    events.use({ name: 'Recorder', dispatching: (record) => void records.push(record) })
    const ran: string[] = []
    class Projector extends ShouldQueue(Listener.for(OrderPlaced)) {
      handle(event: OrderPlaced) {
        ran.push(`Projector ${event.orderId}`)
      }
    }
    class Lifecycle extends Subscriber.for(OrderPlaced) {
      handleOrderPlaced(event: OrderPlaced) {
        ran.push(`Lifecycle ${event.orderId}`)
      }
    }
    events.listen(OrderPlaced, Projector)
    events.subscribe(Lifecycle)
    events.listen('*', function Audit(name: string) {
      ran.push(`Audit ${name}`)
    })

    await withEventContext({ correlationId: 'chain-1', replaying: true }, () => events.replay('OrderPlaced', new OrderPlaced(1)))
    expect(ran).toEqual(['Projector 1', 'Lifecycle 1', 'Audit OrderPlaced'])
    expect(sent).toEqual([])
    expect(records.map((record) => [record.name, record.replaying, record.correlationId, record.redispatch])).toEqual([['OrderPlaced', true, 'chain-1', false]])

    ran.length = 0
    await events.replay('OrderPlaced', new OrderPlaced(2), { listener: 'Lifecycle@handleOrderPlaced' })
    await events.replay('OrderPlaced', new OrderPlaced(3), { listener: 'Audit' })
    expect(ran).toEqual(['Lifecycle 2', 'Audit OrderPlaced'])

    // The plain dispatch is unchanged: the queued listener and the event go to the gateway.
    await events.dispatch(new OrderPlaced(4))
    expect(sent).toEqual(['broadcast OrderPlaced', 'queued event OrderPlaced'])
  })

  it('replays a string event by name, and rejects with the listeners’ failures as dispatch does', async () => {
    const events = new Dispatcher()
    events.listen('note.added', function Fails() {
      throw new Error('broken projection')
    })
    await expect(events.replay('note.added', { text: 'x' })).rejects.toThrow('1 listener failed for event "note.added": Fails (broken projection)')
  })
})
