import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Dispatcher, createApplication } from 'herald'
import { discoverEvents, sourceFiles } from '../../src/events/discovery.ts'
import { listEvents } from '../../src/events/event-listing.ts'
import RecordOrder from '../fixtures/shop/app/listeners/record-order.ts'
import { OrderPlaced } from '../fixtures/shop/app/events/order-placed.ts'

const shop = fileURLToPath(new URL('../fixtures/shop', import.meta.url))
const paths = {
  events: join(shop, 'app/events'),
  listeners: join(shop, 'app/listeners'),
  subscribers: join(shop, 'app/subscribers'),
}

function tempApp(files: Record<string, string>): string {
  const base = mkdtempSync(join(tmpdir(), 'herald-discovery-'))
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(base, file, '..'), { recursive: true })
    writeFileSync(join(base, file), text)
  }
  return base
}

describe('discovery', () => {
  it('finds events, listeners (Listener.for or static events) and subscribers, skipping helpers', async () => {
    const events = new Dispatcher()
    const report = await discoverEvents(events, paths, shop)
    expect([...report.events.keys()].sort()).toEqual(['OrderPlaced', 'orders.cancelled'])
    expect(report.listeners.map((l) => [l.file, l.listener.name])).toEqual([
      ['app/listeners/cancel-note.ts', 'CancelNote'],
      ['app/listeners/record-order.ts', 'RecordOrder'],
    ])
    expect(report.subscribers.map((s) => s.subscriber.name)).toEqual(['Everything', 'OrderAudit'])
    expect(events.getListeners(OrderPlaced).map((l) => l.name)).toEqual(['RecordOrder', 'OrderAudit'])
    expect(events.getListeners('orders.cancelled').map((l) => l.name)).toEqual(['CancelNote', 'Everything', 'OrderAudit'])
  })

  it('makes a manual registration of a discovered listener a no-op, with a debug note', async () => {
    const notes: string[] = []
    const events = new Dispatcher({ debug: (message) => notes.push(message) })
    await discoverEvents(events, paths, shop)
    events.listen(OrderPlaced, RecordOrder)
    expect(events.getListeners(OrderPlaced).filter((l) => l.listener === RecordOrder)).toHaveLength(1)
    expect(notes).toEqual(['Listener "RecordOrder" is already registered for "OrderPlaced"; ignored.'])
  })

  it('names the file of a listener that declares no events', async () => {
    const base = tempApp({
      'app/listeners/forgetful.ts': 'export default class Forgetful { handle() {} }\n',
    })
    await expect(
      discoverEvents(new Dispatcher(), { events: join(base, 'app/events'), listeners: join(base, 'app/listeners'), subscribers: join(base, 'app/subscribers') }, base),
    ).rejects.toThrow(
      'Listener "Forgetful" in app/listeners/forgetful.ts declares no events: extend Listener.for(SomeEvent) or set static events.',
    )
  })

  it('names the file of a subscriber that registers nothing', async () => {
    const base = tempApp({ 'app/subscribers/idle.ts': 'export default class Idle {}\n' })
    await expect(
      discoverEvents(new Dispatcher(), { events: join(base, 'e'), listeners: join(base, 'l'), subscribers: join(base, 'app/subscribers') }, base),
    ).rejects.toThrow('Subscriber "Idle" in app/subscribers/idle.ts has neither subscribe(events) nor static events.')
  })

  it('walks folders recursively, in name order, skipping tests and declaration files', () => {
    const base = tempApp({
      'l/b.ts': '',
      'l/a/z.ts': '',
      'l/a.test.ts': '',
      'l/types.d.ts': '',
      'l/notes.md': '',
    })
    expect(sourceFiles(join(base, 'l')).map((file) => file.slice(base.length + 3))).toEqual(['a/z.ts', 'b.ts'])
    expect(sourceFiles(join(base, 'missing'))).toEqual([])
  })

  it('is switched off by EVENTS_DISCOVERY=false', async () => {
    const app = createApplication({ basePath: shop, env: { EVENTS_DISCOVERY: 'false' }, envFile: false })
    await app.boot()
    expect(app.make('events').getListeners().size).toBe(0)
    expect(app.make('events.discovery').listeners).toEqual([])
    await app.shutdown()
  })
})

describe('event listing', () => {
  it('lists each event with its listeners, wildcards marked, and each wildcard pattern', async () => {
    const events = new Dispatcher()
    const report = await discoverEvents(events, paths, shop)
    events.listen('orphan.event', function lonely() {})
    // Events that declare nothing for the catalog list null description, schema and example.
    const plain = { description: null, category: null, tags: [], schema: null, example: null }
    expect(listEvents(events, report)).toEqual({
      events: [
        {
          event: 'OrderPlaced',
          ...plain,
          broadcast: false,
          listeners: [
            { name: 'RecordOrder', method: null, pattern: null, queued: false },
            { name: 'OrderAudit', method: 'handleOrderPlaced', pattern: null, queued: false },
          ],
        },
        { event: 'orders.cancelled', ...plain, broadcast: false, listeners: [
          { name: 'CancelNote', method: null, pattern: null, queued: false },
          { name: 'Everything', method: null, pattern: 'orders.*', queued: false },
          { name: 'OrderAudit', method: 'handleOrdersCancelled', pattern: null, queued: false },
        ] },
        { event: 'orphan.event', ...plain, broadcast: false, listeners: [{ name: 'lonely', method: null, pattern: null, queued: false }] },
      ],
      wildcards: [{ event: 'orders.*', ...plain, broadcast: false, listeners: [{ name: 'Everything', method: null, pattern: 'orders.*', queued: false }] }],
    })
    expect(listEvents(events, report, 'orphan').events.map((e) => e.event)).toEqual(['orphan.event'])
  })
})
