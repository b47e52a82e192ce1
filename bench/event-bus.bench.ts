/**
 * The event bus on Redis Streams between two processes, against raw XADD / XREADGROUP doing the
 * same work, in one run; and the outbox relay's throughput on PostgreSQL beside it. Run with
 * `npm run bench:event-bus` (add `-- --json` for a machine-readable result on stdout; the table
 * then goes to stderr). Needs Redis (REDIS_URL, default 127.0.0.1:6379) and PostgreSQL (PGHOST …,
 * default postgres@127.0.0.1:5432/test; a database of its own is created and dropped).
 * BENCH_EVENTS (20,000), BENCH_ROUNDS (5), BENCH_PACED_EVENTS (500), BENCH_PACED_INTERVAL_MS (4)
 * and BENCH_OUTBOX_ROWS (5,000) change the sizes.
 *
 * Processes: a publisher child and a consumer child (this file, forked with --child), each
 * holding every contender's side; the parent only orchestrates. Each measurement uses streams
 * under a fresh key prefix, deleted afterwards (untimed).
 *
 * Contenders, each publishing `{ n, sentAt }` awaited one by one, as application code would:
 * - herald: `EventBusManager.publish('bench.tick', payload)` (a ULID, the serializer, XADD
 *   MAXLEN ~) and, in the consumer, `EventBusManager.subscribe` + `work()` on its defaults
 *   (batch 10): per entry SET NX of the id's dedup key, the handler, SET done + XACK in one MULTI.
 * - raw, same work: a hand-written XADD of the same fields and a hand-written XREADGROUP loop
 *   (COUNT 10, BLOCK 2000) doing what the bus guarantees: per entry SET NX of a dedup key, the
 *   handler, then SET done + XACK in one MULTI. The targets are against this one.
 * - raw, ack only: the same loop with no dedup and one XACK per batch: the floor of
 *   XADD/XREADGROUP alone, printed for reference.
 *
 * Scenarios, each in ROUNDS rounds after a warm-up round, the contenders' order rotating per
 * round (figures are the median round):
 * 1. throughput: EVENTS events published back to back; events/s = EVENTS / (the consumer's last
 *    receipt - the first publish).
 * 2. latency: PACED_EVENTS events, one every PACED_INTERVAL_MS on an absolute schedule, so no
 *    backlog builds up: publish -> remote handler, p50 / p99 (process.hrtime, CLOCK_MONOTONIC,
 *    one clock for both processes).
 * 3. outbox relay (PostgreSQL): OUTBOX_ROWS events published inside one `DB.transaction` while
 *    the bus points at an unreachable Redis fill `event_bus_outbox`; then `relayOutbox()` on a
 *    bus with Redis up moves them to the stream (batches of 100: SELECT, pipelined XADD,
 *    DELETE): rows/s.
 *
 * Targets (issue 15): herald throughput >= 0.8x raw (same work), p50 <= 1.5x raw's. The
 * benchmark always exits 0 (1 only when a scenario could not run); targets are reported as
 * MET / NOT MET.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import knexFactory from 'knex'
import { DatabaseManager, EventBusManager, Migrator, createLogger } from '../src/index.ts'
import type { EventBusConfig } from '../src/foundation/event-bus-config.ts'
import { BenchChild, serveParent, withTimeout } from './support/child-rpc.ts'
import { PG, REDIS_URL } from './support/services.ts'
import { median, nowUs, percentile, positiveInt } from './support/stats.ts'

const EVENTS = positiveInt('BENCH_EVENTS', 20_000)
const ROUNDS = positiveInt('BENCH_ROUNDS', 5)
const PACED_EVENTS = positiveInt('BENCH_PACED_EVENTS', 500)
const PACED_INTERVAL_MS = positiveInt('BENCH_PACED_INTERVAL_MS', 4)
const OUTBOX_ROWS = positiveInt('BENCH_OUTBOX_ROWS', 5_000)
const NAME = 'bench.tick'
const GROUP = 'bench-consumer'
const BATCH = 10
const BLOCK_MS = 2_000
const DEDUP_TTL_S = 600
const CLAIM_IDLE_MS = 30_000
const ROUND_TIMEOUT_MS = 120_000
const MIGRATIONS = fileURLToPath(new URL('../database/migrations', import.meta.url))

type ContenderId = 'herald' | 'raw' | 'raw-ack'
const CONTENDERS: ReadonlyArray<{ id: ContenderId; label: string }> = [
  { id: 'herald', label: 'herald event bus' },
  { id: 'raw', label: 'raw, same work (dedup + XACK per entry)' },
  { id: 'raw-ack', label: 'raw, ack only (XACK per batch)' },
]

function busConfig(prefix: string, url = REDIS_URL, outbox = false): EventBusConfig {
  return {
    driver: 'redis',
    service: GROUP,
    redis: { url, prefix, maxLength: 1_000_000, claimIdle: CLAIM_IDLE_MS, batch: BATCH, block: BLOCK_MS },
    dedupTtl: DEDUP_TTL_S,
    outbox: { enabled: outbox, table: 'event_bus_outbox', connection: null, relayInterval: 5_000 },
  }
}

const silent = createLogger('error', (line) => process.stderr.write(`${line}\n`))

// ---------------------------------------------------------------------------------------------
// The consumer child

interface Collected {
  readonly first: number
  readonly last: number
  readonly latencies: number[]
}

function consumerChild(): void {
  let received: number[] = []
  let firstAt = 0
  let lastAt = 0
  let expected = 0
  let done: (() => void) | null = null
  let stop: (() => Promise<void>) | null = null
  const record = (sentAt: number) => {
    const at = nowUs()
    if (received.length === 0) firstAt = at
    lastAt = at
    received.push(at - sentAt)
    if (received.length === expected) done?.()
  }

  async function listenHerald(prefix: string): Promise<() => Promise<void>> {
    const bus = new EventBusManager({ config: busConfig(prefix), logger: silent })
    bus.subscribe(NAME, (event) => record((event as { sentAt: number }).sentAt))
    const controller = new AbortController()
    let ready!: () => void
    const isReady = new Promise<void>((resolve) => (ready = resolve))
    const working = bus.work({ signal: controller.signal, onReady: ready })
    await Promise.race([isReady, working])
    return async () => {
      controller.abort()
      await working
      await bus.close()
    }
  }

  async function listenRaw(prefix: string, dedup: boolean): Promise<() => Promise<void>> {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
    const key = `${prefix}${NAME}`
    await redis.xgroup('CREATE', key, GROUP, '$', 'MKSTREAM')
    let stopping = false
    const loop = (async () => {
      while (!stopping) {
        const reply = (await redis.xreadgroup('GROUP', GROUP, 'raw-consumer', 'COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', key, '>').catch((error: unknown) => {
          if (stopping) return null
          throw error
        })) as Array<[string, Array<[string, string[]]>]> | null
        for (const [, entries] of reply ?? []) {
          if (!dedup) {
            for (const [, fields] of entries) record((JSON.parse(fields[fields.indexOf('payload') + 1]!) as { sentAt: number }).sentAt)
            await redis.xack(key, GROUP, ...entries.map(([id]) => id))
            continue
          }
          for (const [entryId, fields] of entries) {
            const seen = `${prefix}seen:${GROUP}:${fields[fields.indexOf('id') + 1]!}`
            if ((await redis.set(seen, 'running', 'PX', CLAIM_IDLE_MS, 'NX')) === null) continue
            record((JSON.parse(fields[fields.indexOf('payload') + 1]!) as { sentAt: number }).sentAt)
            await redis.multi().set(seen, 'done', 'EX', DEDUP_TTL_S).xack(key, GROUP, entryId).exec()
          }
        }
      }
    })()
    return async () => {
      stopping = true
      redis.disconnect()
      await loop.catch(() => undefined)
    }
  }

  serveParent({
    async listen(contender, prefix) {
      received = []
      expected = Number.POSITIVE_INFINITY
      stop = contender === 'herald' ? await listenHerald(String(prefix)) : await listenRaw(String(prefix), contender === 'raw')
    },
    async collect(count): Promise<Collected> {
      expected = Number(count)
      if (received.length < expected) await new Promise<void>((resolve) => (done = resolve))
      done = null
      return { first: firstAt, last: lastAt, latencies: received }
    },
    async unlisten() {
      await stop?.()
      stop = null
    },
    async close() {
      await stop?.()
    },
  })
}

// ---------------------------------------------------------------------------------------------
// The publisher child

function publisherChild(): void {
  const redis = new Redis(REDIS_URL)
  const buses = new Map<string, EventBusManager>()
  const heraldBus = (prefix: string) => {
    let bus = buses.get(prefix)
    if (bus === undefined) buses.set(prefix, (bus = new EventBusManager({ config: busConfig(prefix), logger: silent })))
    return bus
  }

  async function publishOne(contender: string, prefix: string, n: number): Promise<void> {
    const payload = { n, sentAt: nowUs() }
    if (contender === 'herald') {
      await heraldBus(prefix).publish(NAME, payload)
      return
    }
    await redis.xadd(`${prefix}${NAME}`, 'MAXLEN', '~', 1_000_000, '*', 'id', randomUUID(), 'name', NAME, 'payload', JSON.stringify(payload), 'at', String(Date.now()), 'source', 'bench')
  }

  serveParent({
    async publish(contender, prefix, count, intervalMs): Promise<number> {
      const start = nowUs()
      const interval = Number(intervalMs) * 1_000
      for (let n = 0; n < Number(count); n++) {
        if (interval > 0) {
          const wait = (start + n * interval - nowUs()) / 1_000
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        }
        await publishOne(String(contender), String(prefix), n)
      }
      return start
    },
    async forget(prefix) {
      await buses.get(String(prefix))?.close()
      buses.delete(String(prefix))
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${String(prefix)}*`, 'COUNT', 1_000)
        cursor = next
        if (keys.length > 0) await redis.del(...keys)
      } while (cursor !== '0')
    },
    async relay(rows, rounds): Promise<number[]> {
      return relayRounds(Number(rows), Number(rounds))
    },
    async close() {
      for (const bus of buses.values()) await bus.close()
      await redis.quit()
    },
  })
}

/** Outbox relay rows/s on PostgreSQL, one figure per round, in a database of its own. */
async function relayRounds(rows: number, rounds: number): Promise<number[]> {
  const database = `herald_bench_bus_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = () => knexFactory({ client: 'pg', connection: PG, pool: { min: 0, max: 1 } })
  const setup = admin()
  await setup.raw('create database ??', [database]).finally(() => setup.destroy())
  const db = new DatabaseManager({ default: 'bench', connections: { bench: { driver: 'pgsql', ...PG, database } } }, process.cwd())
  const figures: number[] = []
  try {
    await new Migrator(await db.connection(), MIGRATIONS).latest()
    for (let round = 0; round <= rounds; round++) {
      const prefix = `herald-bench:relay:${randomBytes(4).toString('hex')}:`
      const down = new EventBusManager({ config: busConfig(prefix, 'redis://127.0.0.1:1', true), logger: createLogger('silent'), database: () => db })
      await db.transaction(async () => {
        for (let n = 0; n < rows; n++) await down.publish(NAME, { n, sentAt: 0 })
      })
      await down.close()
      const up = new EventBusManager({ config: busConfig(prefix, REDIS_URL, true), logger: silent, database: () => db })
      const waiting = await up.outboxSize()
      if (waiting !== rows) throw new Error(`the outbox holds ${waiting} rows, expected ${rows}`)
      const start = performance.now()
      await up.relayOutbox()
      const ms = performance.now() - start
      const left = await up.outboxSize()
      if (left !== 0) throw new Error(`the relay left ${left} rows in the outbox`)
      await up.close()
      const check = new Redis(REDIS_URL)
      const length = await check.xlen(`${prefix}${NAME}`)
      await check.del(`${prefix}${NAME}`)
      await check.quit()
      if (length !== rows) throw new Error(`the stream got ${length} entries, expected ${rows}`)
      // Round 0 warms up.
      if (round > 0) figures.push((rows / ms) * 1_000)
    }
    return figures
  } finally {
    await db.close()
    const teardown = admin()
    await teardown.raw('drop database if exists ?? with (force)', [database]).finally(() => teardown.destroy())
  }
}

// ---------------------------------------------------------------------------------------------
// The parent

interface Measured {
  throughput: number[]
  p50: number[]
  p99: number[]
}

async function measure(consumer: BenchChild, publisher: BenchChild, contender: ContenderId, count: number, intervalMs: number): Promise<Collected & { start: number }> {
  const prefix = `herald-bench:bus:${randomBytes(4).toString('hex')}:`
  await consumer.call('listen', contender, prefix)
  try {
    const collected = consumer.call<Collected>('collect', count)
    const start = await withTimeout(publisher.call<number>('publish', contender, prefix, count, intervalMs), `${contender} publishing`, ROUND_TIMEOUT_MS)
    const result = await withTimeout(collected, `${contender} receiving ${count} events`, ROUND_TIMEOUT_MS)
    if (result.latencies.length !== count) throw new Error(`${contender}: received ${result.latencies.length} of ${count}`)
    return { ...result, start }
  } finally {
    await consumer.call('unlisten')
    await publisher.call('forget', prefix)
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const out = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line)
  out(`node ${process.version}, load ${loadavg()[0]!.toFixed(2)}; ${EVENTS} events (throughput), ${PACED_EVENTS} paced every ${PACED_INTERVAL_MS} ms (latency), ${ROUNDS} rounds (median) after a warm-up`)
  const script = fileURLToPath(import.meta.url)
  const consumer = new BenchChild(script, ['--child', 'consumer'], 'consumer')
  const publisher = new BenchChild(script, ['--child', 'publisher'], 'publisher')
  const results = new Map<ContenderId, Measured>(CONTENDERS.map(({ id }) => [id, { throughput: [], p50: [], p99: [] }]))
  let relay: number[] = []
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      for (let k = 0; k < CONTENDERS.length; k++) {
        const { id } = CONTENDERS[(k + round) % CONTENDERS.length]!
        const burst = await measure(consumer, publisher, id, EVENTS, 0)
        const paced = await measure(consumer, publisher, id, PACED_EVENTS, PACED_INTERVAL_MS)
        if (round === 0) continue
        const row = results.get(id)!
        row.throughput.push(EVENTS / ((burst.last - burst.start) / 1e6))
        row.p50.push(percentile(paced.latencies, 50))
        row.p99.push(percentile(paced.latencies, 99))
      }
      out(round === 0 ? 'warm-up round done' : `round ${round} of ${ROUNDS} done`)
    }
    relay = await publisher.call<number[]>('relay', OUTBOX_ROWS, ROUNDS)
  } finally {
    await publisher.close()
    await consumer.close()
  }

  const figure = (id: ContenderId) => {
    const row = results.get(id)!
    return { throughput: median(row.throughput), p50: median(row.p50), p99: median(row.p99), spread: (Math.max(...row.throughput) - Math.min(...row.throughput)) / median(row.throughput) }
  }
  const herald = figure('herald')
  const raw = figure('raw')
  out('')
  const header = ['contender', 'events/s', 'vs raw', 'p50 µs', 'vs raw', 'p99 µs']
  const cells = CONTENDERS.map(({ id, label }) => {
    const f = figure(id)
    return [label, Math.round(f.throughput).toLocaleString('en-US'), `${(f.throughput / raw.throughput).toFixed(2)}x`, Math.round(f.p50).toLocaleString('en-US'), `${(f.p50 / raw.p50).toFixed(2)}x`, Math.round(f.p99).toLocaleString('en-US')]
  })
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((cell) => cell[i]!.length)))
  const line = (cell: readonly string[]) => cell.map((value, i) => (i === 0 ? value.padEnd(widths[i]!) : value.padStart(widths[i]!))).join('  ')
  out(line(header))
  out(widths.map((width) => '-'.repeat(width)).join('  '))
  for (const cell of cells) out(line(cell))
  const relayRate = median(relay)
  out(`\noutbox relay on PostgreSQL: ${Math.round(relayRate).toLocaleString('en-US')} rows/s moved to the stream (${OUTBOX_ROWS} rows, median of ${relay.length})`)
  const throughputRatio = herald.throughput / raw.throughput
  const p50Ratio = herald.p50 / raw.p50
  out(`\nthroughput: herald ${throughputRatio.toFixed(2)}x raw (same work), target >= 0.8x: ${throughputRatio >= 0.8 ? 'MET' : 'NOT MET'}`)
  out(`latency p50: herald ${p50Ratio.toFixed(2)}x raw (same work), target <= 1.5x: ${p50Ratio <= 1.5 ? 'MET' : 'NOT MET'}`)
  if (json) {
    console.log(
      JSON.stringify(
        {
          node: process.version,
          events: EVENTS,
          pacedEvents: PACED_EVENTS,
          rounds: ROUNDS,
          results: Object.fromEntries(CONTENDERS.map(({ id }) => [id, { ...figure(id), samples: results.get(id) }])),
          outboxRelayRowsPerSec: relayRate,
          targets: { throughput: { ratio: throughputRatio, met: throughputRatio >= 0.8 }, p50: { ratio: p50Ratio, met: p50Ratio <= 1.5 } },
        },
        null,
        2,
      ),
    )
  }
}

const childAt = process.argv.indexOf('--child')
if (childAt >= 0) {
  const role = process.argv[childAt + 1]
  if (role === 'consumer') consumerChild()
  else if (role === 'publisher') publisherChild()
  else throw new Error(`unknown child role "${role}"`)
} else {
  try {
    await main()
  } catch (error) {
    process.stderr.write(`bench:event-bus failed: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
}
