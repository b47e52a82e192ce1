import { afterEach, describe, expect, it } from 'vitest'
import { Dispatchable, EventBus, ShouldDispatchAfterCommit, ShouldPublish, bootApplication, isShouldPublish, type Application } from 'herald'

class OrderPlaced extends ShouldPublish(Dispatchable) {
  constructor(
    readonly orderId: number,
    readonly placedAt: Date,
  ) {
    super()
  }
}

class PlainEvent extends Dispatchable {}

let app: Application | null = null

async function boot(): Promise<Application> {
  app = await bootApplication({ basePath: process.cwd(), envFile: false, loadConfig: false, env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' } })
  return app
}

afterEach(async () => {
  await app?.shutdown()
  app = null
})

describe('ShouldPublish and the local event bus', () => {
  it('is detectable at run time from the one declaration', () => {
    expect(isShouldPublish(OrderPlaced)).toBe(true)
    expect(isShouldPublish(new OrderPlaced(1, new Date()))).toBe(true)
    expect(isShouldPublish(PlainEvent)).toBe(false)
    expect(isShouldPublish('OrderPlaced')).toBe(false)
  })

  it('runs the local listeners and delivers a copy, decoded by the serializer, to the subscriptions', async () => {
    const booted = await boot()
    const local: number[] = []
    const received: Array<{ event: OrderPlaced; source: string; id: string }> = []
    booted.make('events').listen(OrderPlaced, (event) => void local.push(event.orderId))
    EventBus.subscribe(OrderPlaced, (event, delivery) => void received.push({ event, source: delivery.source, id: delivery.id }))
    const placedAt = new Date('2026-12-04T05:00:00Z')
    await OrderPlaced.dispatch(7, placedAt)
    expect(local).toEqual([7])
    expect(received).toHaveLength(1)
    const [first] = received
    expect(first!.event).toBeInstanceOf(OrderPlaced)
    expect(first!.event.placedAt).toEqual(placedAt)
    expect(first!.source).toBe('herald')
    expect(first!.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
  })

  it('publishes an event alone with EventBus.publish, and string events with a payload', async () => {
    const booted = await boot()
    const local: unknown[] = []
    const received: unknown[] = []
    booted.make('events').listen(OrderPlaced, (event) => void local.push(event))
    EventBus.subscribe(OrderPlaced, (event) => void received.push(event.orderId))
    EventBus.subscribe('stock.low', (event) => void received.push(event))
    await EventBus.publish(new OrderPlaced(3, new Date()))
    await EventBus.publish('stock.low', { sku: 'A-1', left: new Map([['x', 1n]]) })
    expect(local).toEqual([])
    expect(received).toEqual([3, { sku: 'A-1', left: new Map([['x', 1n]]) }])
  })

  it('runs each subscription once per event, fanout ones too, and a removed one no more', async () => {
    await boot()
    const calls: string[] = []
    const off = EventBus.subscribe(OrderPlaced, () => void calls.push('shared'))
    EventBus.subscribe(OrderPlaced, () => void calls.push('fanout'), { fanout: true })
    await OrderPlaced.dispatch(1, new Date())
    off()
    await OrderPlaced.dispatch(2, new Date())
    expect(calls).toEqual(['shared', 'fanout', 'fanout'])
  })

  it('does not fail the dispatch when a subscription throws (the publisher does not see consumers), and runs the rest', async () => {
    await boot()
    const calls: string[] = []
    EventBus.subscribe(OrderPlaced, () => {
      throw new Error('stock service down')
    })
    EventBus.subscribe(OrderPlaced, () => void calls.push('second'))
    await expect(OrderPlaced.dispatch(1, new Date())).resolves.toEqual([])
    expect(calls).toEqual(['second'])
  })

  it('holds a ShouldDispatchAfterCommit ShouldPublish event for the commit and publishes it once', async () => {
    class Shipped extends ShouldPublish(ShouldDispatchAfterCommit(Dispatchable)) {}
    const booted = await boot()
    const calls: string[] = []
    booted.make('events').listen(Shipped, () => void calls.push('local'))
    EventBus.subscribe(Shipped, () => void calls.push('bus'))
    const { runInTransaction } = await import('../../src/database/transactions.ts')
    await runInTransaction<void, null>((body) => body(null), async () => {
      await Shipped.dispatch()
      expect(calls).toEqual([])
    })
    expect(calls.sort()).toEqual(['bus', 'local'])
  })

  it('rejects the dispatch with the local listener error while still publishing', async () => {
    const booted = await boot()
    const received: number[] = []
    booted.make('events').listen(OrderPlaced, () => {
      throw new Error('receipt failed')
    })
    EventBus.subscribe(OrderPlaced, (event) => void received.push(event.orderId))
    await expect(OrderPlaced.dispatch(5, new Date())).rejects.toThrow(/receipt failed/)
    expect(received).toEqual([5])
  })

  it('EventBus.fake() records publishes instead of sending them; the local listeners still run', async () => {
    const booted = await boot()
    const local: number[] = []
    const received: number[] = []
    booted.make('events').listen(OrderPlaced, (event) => void local.push(event.orderId))
    EventBus.subscribe(OrderPlaced, (event) => void received.push(event.orderId))
    {
      using bus = EventBus.fake()
      EventBus.assertNothingPublished()
      await OrderPlaced.dispatch(4, new Date())
      await EventBus.publish('stock.low', { sku: 'A-1' })
      EventBus.assertPublished(OrderPlaced, (event: OrderPlaced) => event.orderId === 4)
      bus.assertPublished('stock.low', 1)
      EventBus.assertNotPublished(PlainEvent)
      expect(() => EventBus.assertPublished(OrderPlaced, (event: OrderPlaced) => event.orderId === 5)).toThrow(/Published events \(2\):\n  - OrderPlaced/)
      expect(() => EventBus.assertNothingPublished()).toThrow(/2 event\(s\) were/)
    }
    expect(local).toEqual([4])
    expect(received).toEqual([])
    expect(() => EventBus.assertPublished(OrderPlaced)).toThrow('EventBus.assertPublished() needs a fake: call EventBus.fake() first.')
    await OrderPlaced.dispatch(6, new Date())
    expect(received).toEqual([6])
  })
})
