/**
 * The event bus's outbox, on SQLite and PostgreSQL with the real Redis: a ShouldPublish event
 * dispatched inside DB.transaction is written to event_bus_outbox with the transaction (gone on
 * rollback) and relayed to the stream after the commit; while Redis is unreachable events wait
 * in the outbox, and once it is back the relay sends them all.
 */
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { Dispatchable, Migrator, ShouldPublish, createApplication, type Application } from 'herald'
import { EventBusManager } from '../../src/event-bus/event-bus-manager.ts'
import { createLogger } from '../../src/foundation/logger.ts'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'
import { dropPrefix, redisBusConfig, uniquePrefix } from '../support/event-bus-redis.ts'
import { OwnRedis } from '../support/own-redis.ts'

class InvoicePaid extends ShouldPublish(Dispatchable) {
  constructor(readonly invoice: number) {
    super()
  }
}

function makeApp(database: FreshDatabase, prefix: string, url?: string): Application {
  return createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: database.connection } }
      const bus = redisBusConfig('billing', prefix, {}, true)
      config['event-bus'] = url === undefined ? bus : { ...bus, redis: { ...bus.redis, url } }
    },
  })
}

describe.each<Dialect>(['sqlite', 'pgsql'])('the event bus outbox on %s', (dialect) => {
  let database: FreshDatabase
  const cleanups: Array<() => Promise<void>> = []

  beforeAll(async () => {
    database = await freshDatabase(dialect)
    const app = makeApp(database, uniquePrefix())
    await app.boot()
    await new Migrator(await app.make('db').connection(), join(projectRoot, 'database', 'migrations')).latest()
    await app.shutdown()
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(async () => {
    await database?.drop()
  })

  /** A consumer of another service on the same streams (of the Redis at `url`), collecting what it receives. */
  async function receiver(prefix: string, url?: string): Promise<number[]> {
    const got: number[] = []
    const config = redisBusConfig('ledger', prefix)
    const bus = new EventBusManager({ config: url === undefined ? config : { ...config, redis: { ...config.redis, url } }, logger: createLogger('error') })
    bus.subscribe(InvoicePaid, (event) => void got.push(event.invoice))
    const stop = new AbortController()
    let ready!: () => void
    const isReady = new Promise<void>((resolve) => (ready = resolve))
    const working = bus.work({ signal: stop.signal, onReady: ready })
    cleanups.push(async () => {
      stop.abort()
      await working
      await bus.close()
    })
    await isReady
    return got
  }

  it('writes the event with the transaction, drops it on rollback, relays it after the commit', async () => {
    const prefix = uniquePrefix()
    cleanups.push(() => dropPrefix(prefix))
    const got = await receiver(prefix)
    const app = makeApp(database, prefix)
    await app.boot()
    cleanups.push(() => app.shutdown())
    const db = app.make('db')
    const events = app.make('events')
    const local: number[] = []
    events.listen(InvoicePaid, (event) => void local.push(event.invoice))

    await expect(
      db.transaction(async (trx) => {
        await events.dispatch(new InvoicePaid(1))
        expect(Number(((await trx('event_bus_outbox').count({ n: '*' })) as Array<{ n: unknown }>)[0]!.n)).toBe(1)
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect(await app.make('event-bus').outboxSize()).toBe(0)

    await db.transaction(async () => {
      await events.dispatch(new InvoicePaid(2))
    })
    await vi.waitFor(() => expect(got).toEqual([2]), { timeout: 10_000, interval: 20 })
    await vi.waitFor(async () => expect(await app.make('event-bus').outboxSize()).toBe(0), { timeout: 10_000, interval: 20 })
    // The local listener ran for both dispatches: the rollback drops only what the transaction wrote.
    expect(local).toEqual([1, 2])
  })

  it('keeps events in the outbox while Redis is unreachable and sends them all once it is back', async () => {
    const prefix = uniquePrefix()
    cleanups.push(() => dropPrefix(prefix))
    const got = await receiver(prefix)
    const down = makeApp(database, prefix, 'redis://127.0.0.1:1')
    await down.boot()
    const events = down.make('events')
    await down.make('db').transaction(async () => {
      await events.dispatch(new InvoicePaid(10))
      await events.dispatch(new InvoicePaid(11))
    })
    // Outside a transaction the send fails, and the event goes to the outbox instead.
    await events.dispatch(new InvoicePaid(12))
    await down.make('event-bus').relayOutbox()
    expect(await down.make('event-bus').outboxSize()).toBe(3)
    await down.shutdown()
    expect(got).toEqual([])

    const back = makeApp(database, prefix)
    await back.boot()
    cleanups.push(() => back.shutdown())
    await back.make('event-bus').relayOutbox()
    expect(await back.make('event-bus').outboxSize()).toBe(0)
    await vi.waitFor(() => expect(got).toEqual([10, 11, 12]), { timeout: 10_000, interval: 20 })
  })
  it('loses nothing when Redis stops while transactions publish, and drains the backlog once it is back', async () => {
    const own = await OwnRedis.start()
    cleanups.push(() => own.remove())
    const prefix = uniquePrefix()
    const got = await receiver(prefix, own.url)
    const app = makeApp(database, prefix, own.url)
    await app.boot()
    cleanups.push(() => app.shutdown())
    const db = app.make('db')
    const events = app.make('events')
    const bus = app.make('event-bus')
    await db.transaction(async () => void (await events.dispatch(new InvoicePaid(1))))
    await vi.waitFor(() => expect(got).toEqual([1]), { timeout: 10_000, interval: 20 })

    await own.stop()
    for (const invoice of [2, 3, 4, 5, 6]) await db.transaction(async () => void (await events.dispatch(new InvoicePaid(invoice))))
    await bus.relayOutbox()
    expect(await bus.outboxSize()).toBe(5)

    // Back with what its append-only file kept: the relay's retry sends the backlog by itself.
    await own.start()
    await vi.waitFor(async () => expect(await bus.outboxSize()).toBe(0), { timeout: 20_000, interval: 50 })
    await vi.waitFor(() => expect(got).toEqual([1, 2, 3, 4, 5, 6]), { timeout: 20_000, interval: 20 })
  })
})
