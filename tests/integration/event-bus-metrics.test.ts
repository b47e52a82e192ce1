/**
 * The event bus in Prometheus metrics, against the real Redis and SQLite: a group that has not
 * read what was published shows it as lag, entries it holds unacknowledged as pending, and
 * events that could not be sent show as the outbox backlog.
 */
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Dispatchable, Migrator, ShouldPublish, createApplication, type Application } from 'herald'
import { EventBusManager } from '../../src/event-bus/event-bus-manager.ts'
import { createLogger } from '../../src/foundation/logger.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'
import { dropPrefix, redisBusConfig, uniquePrefix } from '../support/event-bus-redis.ts'

class StockCounted extends ShouldPublish(Dispatchable) {
  constructor(readonly sku: number) {
    super()
  }
}

function makeApp(database: FreshDatabase, prefix: string, url?: string): Application {
  return createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent', EVENTS_METRICS_ENABLED: 'true' },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: database.connection } }
      const bus = redisBusConfig('warehouse', prefix, {}, true)
      config['event-bus'] = url === undefined ? bus : { ...bus, redis: { ...bus.redis, url } }
    },
  })
}

/** One series' value in a scrape, or undefined when the scrape leaves it out. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('event bus metrics', () => {
  let database: FreshDatabase
  const cleanups: Array<() => Promise<void>> = []

  beforeAll(async () => {
    database = await freshDatabase('sqlite')
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

  it('shows a group’s lag and pending entries, and the outbox backlog while Redis is unreachable', async () => {
    const prefix = uniquePrefix()
    cleanups.push(() => dropPrefix(prefix))
    // A service whose group exists (it worked once) and that is not reading now.
    const audit = new EventBusManager({ config: redisBusConfig('audit', prefix), logger: createLogger('error') })
    audit.subscribe(StockCounted, () => undefined)
    cleanups.push(() => audit.close())
    const stop = new AbortController()
    let ready!: () => void
    const isReady = new Promise<void>((resolve) => (ready = resolve))
    const working = audit.work({ signal: stop.signal, onReady: ready })
    await isReady
    stop.abort()
    await working

    const app = makeApp(database, prefix)
    await app.boot()
    cleanups.push(() => app.shutdown())
    const events = app.make('events')
    for (const sku of [1, 2, 3]) await events.dispatch(new StockCounted(sku))
    const stream = `${prefix}StockCounted`
    const labels = `{stream="${stream}",group="audit"}`
    let text = (await app.make('events.metrics').scrape()).body
    expect(value(text, `herald_event_bus_lag${labels}`)).toBe(3)
    expect(value(text, `herald_event_bus_pending${labels}`)).toBe(0)
    expect(value(text, 'herald_event_bus_outbox')).toBe(0)

    // A consumer reads two entries and stops before acknowledging them: pending 2, lag 1.
    const redis = (await import('ioredis')).Redis
    const client = new redis(redisBusConfig('audit', prefix).redis.url)
    cleanups.push(async () => void (await client.quit()))
    const read = (await client.xreadgroup('GROUP', 'audit', 'gone-consumer', 'COUNT', 2, 'STREAMS', stream, '>')) as Array<[string, unknown[]]>
    expect(read[0]![1]).toHaveLength(2)
    text = (await app.make('events.metrics').scrape()).body
    expect(value(text, `herald_event_bus_lag${labels}`)).toBe(1)
    expect(value(text, `herald_event_bus_pending${labels}`)).toBe(2)

    // Redis unreachable: the events wait in the outbox, and the stream gauges are left out.
    const down = makeApp(database, prefix, 'redis://127.0.0.1:1')
    await down.boot()
    cleanups.push(() => down.shutdown())
    await down.make('db').transaction(async () => {
      await down.make('events').dispatch(new StockCounted(4))
      await down.make('events').dispatch(new StockCounted(5))
    })
    await down.make('event-bus').relayOutbox()
    text = (await down.make('events.metrics').scrape()).body
    expect(value(text, 'herald_event_bus_outbox')).toBe(2)
    expect(value(text, `herald_event_bus_lag${labels}`)).toBeUndefined()

    // Back: the relay sends them, and the group's lag counts them.
    await app.make('event-bus').relayOutbox()
    text = (await app.make('events.metrics').scrape()).body
    expect(value(text, 'herald_event_bus_outbox')).toBe(0)
    expect(value(text, `herald_event_bus_lag${labels}`)).toBe(3)
  })
})
