/**
 * Event store throughput, in one run: what turning the store on costs a dispatch, and what a
 * stream append costs against writing the same rows by hand. Run with `npm run bench:store`
 * (add `-- --json` for a machine-readable result on stdout; the table then goes to stderr).
 * Needs PostgreSQL (PGHOST / PGPORT / PGUSER / PGPASSWORD / PGDATABASE, default
 * postgres@127.0.0.1:5432/test; a database of its own is created and dropped); SQLite uses a
 * temporary file. BENCH_EVENTS (events per round, default 2,000), BENCH_ROUNDS (5) and
 * BENCH_ONLY=sqlite,pgsql change the run.
 *
 * 1. Dispatch: a class event (4 fields, a Date) to one trivial listener, every dispatch
 *    awaited, with the store off (no middleware: the dispatcher's plain path), with the store
 *    on (each dispatch is an INSERT before the listener runs: redaction with the default rules,
 *    the serializer, the row), and a floor: the same listener called after a raw knex INSERT of
 *    a row built by hand (ULID, JSON.stringify) per event. Each of those INSERTs is a commit of
 *    its own (a disk flush); the store on with APPEND_BATCH dispatches per `DB.transaction`
 *    shows the usual case, where the row joins the transaction the application writes in.
 * 2. Append: streams of APPEND_BATCH events appended with `EventStore.append(stream, events, 0)`
 *    (a transaction: duplicate-id check, version read, insert), against a raw knex INSERT of the
 *    same number of rows built by hand, one statement per batch, no transaction, no checks.
 *
 * Contenders alternate within each round (the order rotates), rows are deleted between
 * measurements (untimed), and the figure is the median round. Exits 0 whatever the figures say.
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import knexFactory from 'knex'
import eventsConfig from '../config/events.ts'
import { DatabaseManager, Dispatcher, Env, EventStore, Migrator, createRedactor, ulid, type DatabaseConfig, type Knex } from '../src/index.ts'
import { storeMiddleware } from '../src/events/store/store-middleware.ts'
import { PG } from './support/services.ts'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const APPEND_BATCH = 100
const ONLY = new Set((process.env.BENCH_ONLY ?? 'sqlite,pgsql').split(',').map((name) => name.trim()))
const TABLE = 'stored_events'
const MIGRATIONS = fileURLToPath(new URL('../database/migrations', import.meta.url))
const RUN_ID = `herald_bench_store_${process.pid}_${Date.now().toString(36)}`
/** The demo application's redaction rules (config/events.ts), as an application would store with them. */
const REDACT = eventsConfig.configFactory(new Env(process.env)).redact

class OrderPlaced {
  constructor(
    readonly orderId: number,
    readonly userId: number,
    readonly total: number,
    readonly placedAt: Date,
  ) {}
}

type Dialect = 'sqlite' | 'pgsql'

interface Contender {
  readonly id: string
  readonly label: string
  readonly scenario: 'dispatch' | 'append'
  /** Handles EVENTS events; resolves when all are written. */
  run(): Promise<void>
}

interface Row {
  dialect: Dialect
  scenario: string
  contender: string
  label: string
  eventsPerSec: number
  ratio: number
  ratioTo: string
  spreadPct: number
  samples: number[]
}

let sink = 0
let nextOrder = 0
const placedAt = new Date(1_700_000_000_000)

function makeEvent(): OrderPlaced {
  const id = ++nextOrder
  return new OrderPlaced(id, id & 1023, 19.99, placedAt)
}

/** The row a hand-written store would write for one event. */
function handRow(event: OrderPlaced, streamId: string | null = null, version: number | null = null) {
  const id = ulid()
  return {
    id,
    name: 'OrderPlaced',
    payload: JSON.stringify({ orderId: event.orderId, userId: event.userId, total: event.total, placedAt: event.placedAt.toISOString() }),
    tags: '[]',
    correlation_id: id,
    causation_id: null,
    stream_id: streamId,
    version,
    occurred_at: Date.now(),
  }
}

async function openDatabase(dialect: Dialect): Promise<{ db: DatabaseManager; location: string; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const location = join(tmpdir(), `${RUN_ID}.sqlite`)
    const db = new DatabaseManager({ default: 'bench', connections: { bench: { driver: 'sqlite', filename: location } } }, process.cwd())
    return { db, location, drop: async () => ['', '-wal', '-shm'].forEach((suffix) => rmSync(`${location}${suffix}`, { force: true })) }
  }
  const admin = () => knexFactory({ client: 'pg', connection: PG, pool: { min: 0, max: 1 } })
  const setup = admin()
  await setup.raw('create database ??', [RUN_ID]).finally(() => setup.destroy())
  const config: DatabaseConfig = { default: 'bench', connections: { bench: { driver: 'pgsql', ...PG, database: RUN_ID } } }
  return {
    db: new DatabaseManager(config, process.cwd()),
    location: `${PG.user}@${PG.host}:${PG.port}/${RUN_ID}`,
    drop: async () => {
      const teardown = admin()
      await teardown.raw('drop database if exists ?? with (force)', [RUN_ID]).finally(() => teardown.destroy())
    },
  }
}

function contenders(db: DatabaseManager, knex: Knex): Contender[] {
  const listener = (event: OrderPlaced) => {
    sink += event.total
  }
  const makeStore = (events: Dispatcher) =>
    new EventStore({ database: () => db, connection: null, table: TABLE, registry: { classFor: () => undefined, nameOf: () => undefined }, redact: createRedactor(REDACT), events })
  const plain = new Dispatcher()
  plain.listen(OrderPlaced, listener)
  const store = makeStore(plain)
  const stored = new Dispatcher()
  stored.listen(OrderPlaced, listener)
  stored.use(storeMiddleware(makeStore(stored)))
  let stream = 0
  return [
    {
      id: 'store-off',
      label: 'dispatch, store off',
      scenario: 'dispatch',
      async run() {
        for (let i = 0; i < EVENTS; i++) await plain.dispatch(makeEvent())
      },
    },
    {
      id: 'store-on',
      label: 'dispatch, store on',
      scenario: 'dispatch',
      async run() {
        for (let i = 0; i < EVENTS; i++) await stored.dispatch(makeEvent())
      },
    },
    {
      id: 'store-on-trx',
      label: `dispatch, store on, ${APPEND_BATCH} per DB.transaction`,
      scenario: 'dispatch',
      async run() {
        for (let i = 0; i < EVENTS; i += APPEND_BATCH) {
          await db.transaction(async () => {
            for (let j = 0; j < APPEND_BATCH; j++) await stored.dispatch(makeEvent())
          })
        }
      },
    },
    {
      id: 'raw-insert',
      label: 'floor: raw knex INSERT + listener',
      scenario: 'dispatch',
      async run() {
        for (let i = 0; i < EVENTS; i++) {
          const event = makeEvent()
          await knex(TABLE).insert(handRow(event))
          listener(event)
        }
      },
    },
    {
      id: 'append',
      label: `EventStore.append, ${APPEND_BATCH} per stream`,
      scenario: 'append',
      async run() {
        for (let i = 0; i < EVENTS; i += APPEND_BATCH) {
          await store.append(`stream-${++stream}`, Array.from({ length: APPEND_BATCH }, makeEvent), 0)
        }
      },
    },
    {
      id: 'raw-batch',
      label: `raw knex batch INSERT of ${APPEND_BATCH} rows`,
      scenario: 'append',
      async run() {
        for (let i = 0; i < EVENTS; i += APPEND_BATCH) {
          const id = `stream-${++stream}`
          await knex(TABLE).insert(Array.from({ length: APPEND_BATCH }, (_, v) => handRow(makeEvent(), id, v + 1)))
        }
      },
    },
  ]
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function benchDialect(dialect: Dialect, out: (line: string) => void): Promise<Row[]> {
  const { db, location, drop } = await openDatabase(dialect)
  try {
    const knex = await db.connection()
    await new Migrator(knex, MIGRATIONS).latest()
    out(`${dialect}: ${location}`)
    const list = contenders(db, knex)
    const samples = new Map<string, number[]>(list.map((contender) => [contender.id, []]))
    // Warm-up: one untimed round.
    for (const contender of list) await contender.run()
    await knex(TABLE).delete()
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < list.length; k++) {
        const contender = list[(k + round) % list.length]!
        const start = performance.now()
        await contender.run()
        samples.get(contender.id)!.push((EVENTS / (performance.now() - start)) * 1000)
        await knex(TABLE).delete()
      }
    }
    const ops = (id: string) => median(samples.get(id)!)
    const baseline: Record<string, string> = { 'store-off': 'store-off', 'store-on': 'store-off', 'store-on-trx': 'store-off', 'raw-insert': 'store-on', append: 'raw-batch', 'raw-batch': 'append' }
    return list.map((contender) => {
      const values = samples.get(contender.id)!
      const eventsPerSec = ops(contender.id)
      const ratioTo = baseline[contender.id]!
      return {
        dialect,
        scenario: contender.scenario,
        contender: contender.id,
        label: contender.label,
        eventsPerSec,
        ratio: eventsPerSec / ops(ratioTo),
        ratioTo,
        spreadPct: ((Math.max(...values) - Math.min(...values)) / eventsPerSec) * 100,
        samples: values,
      }
    })
  } finally {
    await db.close()
    await drop()
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const out = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line)
  out(`node ${process.version}, ${EVENTS} events per contender per round, ${ROUNDS} rounds (median), one warm-up round`)
  const rows: Row[] = []
  for (const dialect of ['sqlite', 'pgsql'] as const) {
    if (ONLY.has(dialect)) rows.push(...(await benchDialect(dialect, out)))
  }
  out('')
  const header = ['database', 'contender', 'events/s (median)', 'ratio', 'to', 'spread']
  const cells = rows.map((row) => [
    row.dialect,
    row.label,
    Math.round(row.eventsPerSec).toLocaleString('en-US'),
    `${row.ratio.toFixed(row.ratio < 0.1 ? 4 : 2)}x`,
    row.ratioTo,
    `±${(row.spreadPct / 2).toFixed(1)}%`,
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((cell) => cell[i]!.length)))
  const line = (cell: readonly string[]) => cell.map((value, i) => (i === 2 || i === 3 || i === 5 ? value.padStart(widths[i]!) : value.padEnd(widths[i]!))).join('  ')
  out(line(header))
  out(widths.map((width) => '-'.repeat(width)).join('  '))
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && (rows[i]!.dialect !== rows[i - 1]!.dialect || rows[i]!.scenario !== rows[i - 1]!.scenario)) out('')
    out(line(cells[i]!))
  }
  out('\nratio = this contender\'s events/s ÷ the one named under "to": store on ÷ store off is what the store costs a dispatch,')
  out('the raw INSERT ÷ store on what Herald adds to the INSERT, append ÷ raw batch what the checks and the transaction cost an append.')
  out(`(sink ${sink.toExponential(3)})`)
  if (json) console.log(JSON.stringify({ node: process.version, events: EVENTS, rounds: ROUNDS, appendBatch: APPEND_BATCH, results: rows }, null, 2))
}

await main()
