/**
 * Queue throughput and latency: Herald's queued listeners on its bullmq and database drivers,
 * against raw BullMQ and a hand-written database claim loop, in one run. Run with
 * `npm run bench:queue` (add `-- --json` for a machine-readable result on stdout; the table then
 * goes to stderr). Needs Redis (REDIS_URL, default redis://127.0.0.1:6379) and PostgreSQL
 * (PGHOST / PGPORT / PGUSER / PGPASSWORD / PGDATABASE, default postgres@127.0.0.1:5432/test);
 * SQLite uses a temporary file.
 *
 * What is measured, and how:
 * 1. BullMQ throughput. JOBS events are dispatched to a ShouldQueue listener (Herald: a
 *    QueueManager on a bullmq connection, pushed by `Dispatcher.dispatch`, run by Herald's
 *    `Worker`) and the same number of jobs are added to a raw BullMQ Queue (`Queue.add`, one
 *    job per call, as a dispatch makes one) and run by a raw BullMQ `Worker`. Push and consume
 *    are timed separately: the queue is filled first with PUSH_WINDOW pushes in flight (push
 *    jobs/s), then a worker is started and timed until the last listener/processor has run
 *    (consume jobs/s; push time NOT included). Both handlers do the same trivial work. Each
 *    round runs Herald and raw at concurrency 1 and 10, in an order that alternates per round;
 *    the figure is the median round.
 * 2. Latency: LATENCY_EVENTS sequential events, Herald and raw alternating event by event,
 *    each worker running at concurrency 1: the time from the dispatch (or `Queue.add`) call to
 *    the moment the listener (processor) has run, signalled in-process by the handler itself
 *    (the same mechanism for both). p50 and p99.
 * 3. The database driver on PostgreSQL (its own schema, created by the project's migrations,
 *    dropped afterwards) and on SQLite (a temporary file): DB_JOBS jobs pushed by dispatch,
 *    then consumed by 4 workers, measured twice: 4 Herald `Worker` instances in this process
 *    (sharing one knex pool), and 4 worker processes (`queue:work` style, each its own
 *    knex), from the start signal to the last listener run. The baseline is a floor: 4 loops
 *    in this process running the driver's own SQL by hand (claim with UPDATE ... RETURNING,
 *    then DELETE), with no Herald pipeline.
 *
 * Workers use `artisan queue:work`'s defaults (tries 1, timeout 60 s, memory 512 MB), without
 * the per-job output line. The benchmark exits 0 whatever the targets say (1 only when a
 * scenario could not run); targets are reported as MET / NOT MET.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Queue, Worker as BullWorker, type Job, type JobsOptions } from 'bullmq'
import knexFactory from 'knex'
import {
  DatabaseManager,
  Dispatcher,
  Listener,
  MemoryFailedJobStore,
  Migrator,
  QueueManager,
  ShouldQueue,
  createLogger,
  type DatabaseConfig,
  type Knex,
  type QueueConfig,
} from '../src/index.ts'
import { Worker, type WorkerOptions } from '../src/queue/worker.ts'

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 1_000)
const DB_JOBS = Number(process.env.BENCH_DB_JOBS ?? 10_000)
const DB_WORKERS = 4
const WARMUP_JOBS = 2_000
/** Pushes in flight at once while filling a queue: many requests dispatching side by side. */
const PUSH_WINDOW = 100
const CONCURRENCIES = [1, 10] as const
/** A scenario that has not finished in this time is reported as an error, not waited for. */
const STEP_TIMEOUT_MS = 180_000
/** BENCH_ONLY=bullmq,pgsql,sqlite runs a subset (while working on one driver). */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'bullmq,pgsql,sqlite').split(',').map((s) => s.trim()))

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const PG = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  password: process.env.PGPASSWORD ?? '',
  database: process.env.PGDATABASE ?? 'test',
}
/** Everything this run creates is named after it, so it never touches anyone else's data. */
const RUN_ID = `herald_bench_${process.pid}_${Date.now().toString(36)}`
const MIGRATIONS = fileURLToPath(new URL('../database/migrations', import.meta.url))

/** `artisan queue:work`'s defaults, minus the per-job output line. */
const WORKER_DEFAULTS = {
  defaults: { tries: 1, backoff: 0, timeout: 60 },
  sleep: 3,
  maxJobs: 0,
  maxTime: 0,
  memory: 512,
} satisfies Partial<WorkerOptions>

class OrderPlaced {
  constructor(
    readonly orderId: number,
    readonly userId: number,
    readonly total: number,
    readonly currency: string,
    readonly placedAt: Date,
  ) {}
}

interface OrderData {
  orderId: number
  userId: number
  total: number
  currency: string
  placedAt: string
}

const placedAt = new Date(1_700_000_000_000)
let nextId = 0
function makeEvent(): OrderPlaced {
  const id = ++nextId
  return new OrderPlaced(id, id & 1023, 19.99, 'EUR', placedAt)
}
function makeData(): OrderData {
  const id = ++nextId
  return { orderId: id, userId: id & 1023, total: 19.99, currency: 'EUR', placedAt: placedAt.toISOString() }
}

// The handlers write here and it is printed, so their work cannot be dropped.
let sink = 0

/** Counts handler runs; `expect(n)` resolves when n more have run. */
class Tracker {
  private remaining = 0
  private resolve: (() => void) | null = null
  /** performance.timeOrigin + now() of the last run: comparable across processes. */
  lastAt = 0
  runs = 0

  expect(count: number): Promise<void> {
    this.remaining = count
    return new Promise((resolve) => (this.resolve = resolve))
  }

  hit(): void {
    this.runs++
    this.lastAt = performance.timeOrigin + performance.now()
    if (this.resolve !== null && --this.remaining === 0) {
      const resolve = this.resolve
      this.resolve = null
      resolve()
    }
  }
}

/** A dispatcher and a queue manager on one connection, with a ShouldQueue listener that hits `tracker`. */
function heraldSystem(config: QueueConfig, database: () => DatabaseManager, tracker: Tracker) {
  const events = new Dispatcher()
  const failed = new MemoryFailedJobStore()
  const manager = new QueueManager({
    config,
    events,
    database,
    discovery: () => undefined,
    logger: createLogger('warn'),
    failedJobs: async () => failed,
  })
  events.useQueue(manager)
  class SendReceipt extends ShouldQueue(Listener.for(OrderPlaced)) {
    handle(event: OrderPlaced) {
      sink += event.total
      tracker.hit()
    }
  }
  events.listen(OrderPlaced, SendReceipt)
  // A worker rebuilds events from classes the dispatcher has seen; a worker process that
  // dispatches nothing has to show it the class once (discovery does this in an application).
  events.hasListeners(OrderPlaced)
  return { events, manager, failed }
}

/** Runs `count` calls of `push`, PUSH_WINDOW in flight; resolves to the milliseconds taken. */
async function fill(count: number, push: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  for (let done = 0; done < count; ) {
    const batch = Math.min(PUSH_WINDOW, count - done)
    const pending: Array<Promise<unknown>> = []
    for (let i = 0; i < batch; i++) pending.push(push())
    await Promise.all(pending)
    done += batch
  }
  return performance.now() - start
}

function withTimeout<T>(promise: Promise<T>, label: string, ms = STEP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not finish within ${ms / 1000} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

const perSecond = (count: number, ms: number): number => (count / ms) * 1000

// ---------------------------------------------------------------------------------------------
// 1 and 2: BullMQ

/**
 * Raw BullMQ's job options, matching what Herald's bullmq driver sets for a listener with no
 * options of its own, so both queues do the same Redis work per job.
 */
const RAW_JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: false, attempts: 1 }

interface QueueContender {
  readonly id: 'herald' | 'raw'
  /** Pushes `count` jobs; resolves to the milliseconds taken. */
  push(count: number): Promise<number>
  /** Starts a worker on the filled queue and times it until `count` jobs have run. */
  consume(count: number, concurrency: number): Promise<number>
  /** A worker at concurrency 1 for the latency run; returns its stop function. */
  startIdleWorker(): Promise<() => Promise<unknown>>
  /** One event: from the dispatch call to the listener having run, in ms. */
  roundTrip(): Promise<number>
  /** Jobs still waiting, and jobs failed, for the sanity check after each step. */
  check(): Promise<{ waiting: number; failed: number }>
  close(): Promise<void>
}

function heraldBullmq(): QueueContender {
  const tracker = new Tracker()
  const config: QueueConfig = {
    default: 'bullmq',
    connections: { bullmq: { driver: 'bullmq', url: REDIS_URL, queue: 'herald', prefix: RUN_ID } },
    failed: { table: 'failed_jobs' },
  }
  const { events, manager, failed } = heraldSystem(
    config,
    () => {
      throw new Error('no database in the bullmq benchmark')
    },
    tracker,
  )
  const worker = (concurrency: number) =>
    new Worker(manager, { ...WORKER_DEFAULTS, connection: 'bullmq', queues: ['herald'], concurrency, stopWhenEmpty: false })
  return {
    id: 'herald',
    push: (count) => fill(count, () => events.dispatch(makeEvent())),
    async consume(count, concurrency) {
      const done = tracker.expect(count)
      const start = performance.now()
      const w = worker(concurrency)
      const running = w.run()
      try {
        await withTimeout(Promise.race([done, running.then(() => Promise.reject(new Error('the worker stopped early')))]), 'Herald consume')
        return performance.now() - start
      } finally {
        await w.stop()
      }
    },
    async startIdleWorker() {
      const w = worker(1)
      const running = w.run()
      running.catch(() => undefined)
      return () => w.stop()
    },
    async roundTrip() {
      const done = tracker.expect(1)
      const start = performance.now()
      await events.dispatch(makeEvent())
      await withTimeout(done, 'a Herald round trip', 30_000)
      return performance.now() - start
    },
    async check() {
      const driver = await manager.connection('bullmq')
      return { waiting: await driver.size('herald'), failed: (await failed.all()).length }
    },
    close: () => manager.close(),
  }
}

function rawBullmq(): QueueContender {
  const tracker = new Tracker()
  const url = new URL(REDIS_URL)
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null }
  const queue = new Queue<OrderData>('raw', { connection, prefix: RUN_ID })
  let failures = 0
  const worker = (concurrency: number) => {
    const w = new BullWorker<OrderData>(
      'raw',
      async (job: Job<OrderData>) => {
        sink += job.data.total
        tracker.hit()
      },
      { connection, prefix: RUN_ID, concurrency },
    )
    w.on('failed', () => failures++)
    return w
  }
  return {
    id: 'raw',
    push: (count) => fill(count, () => queue.add('SendReceipt', makeData(), RAW_JOB_OPTIONS)),
    async consume(count, concurrency) {
      const done = tracker.expect(count)
      const start = performance.now()
      const w = worker(concurrency)
      try {
        await withTimeout(done, 'raw BullMQ consume')
        return performance.now() - start
      } finally {
        await w.close()
      }
    },
    async startIdleWorker() {
      const w = worker(1)
      await w.waitUntilReady()
      return () => w.close()
    },
    async roundTrip() {
      const done = tracker.expect(1)
      const start = performance.now()
      await queue.add('SendReceipt', makeData(), RAW_JOB_OPTIONS)
      await withTimeout(done, 'a raw BullMQ round trip', 30_000)
      return performance.now() - start
    },
    async check() {
      return { waiting: await queue.count(), failed: failures }
    },
    close: () => queue.close(),
  }
}

/** Deletes every key of this run (both contenders' queues share the RUN_ID prefix). */
async function cleanRedis(): Promise<number> {
  const url = new URL(REDIS_URL)
  const queue = new Queue('cleanup', { connection: { host: url.hostname, port: Number(url.port || 6379) }, prefix: RUN_ID })
  let deleted = 0
  try {
    const client = await queue.client
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, { MATCH: `${RUN_ID}:*`, COUNT: 1000 })
      if (keys.length > 0) deleted += await client.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    await queue.close()
  }
  return deleted
}

async function expectDrained(contender: QueueContender, step: string): Promise<void> {
  const { waiting, failed } = await contender.check()
  if (waiting !== 0 || failed !== 0) throw new Error(`${contender.id} after ${step}: ${waiting} job(s) still waiting, ${failed} failed`)
}

interface BullmqResults {
  push: Record<'herald' | 'raw', number[]>
  consume: Record<'herald' | 'raw', Record<number, number[]>>
  latency: Record<'herald' | 'raw', number[]>
}

async function benchBullmq(log: (line: string) => void): Promise<BullmqResults> {
  const contenders = [heraldBullmq(), rawBullmq()]
  const results: BullmqResults = {
    push: { herald: [], raw: [] },
    consume: { herald: { 1: [], 10: [] }, raw: { 1: [], 10: [] } },
    latency: { herald: [], raw: [] },
  }
  try {
    for (const c of contenders) {
      await c.push(WARMUP_JOBS)
      await c.consume(WARMUP_JOBS, 10)
      await expectDrained(c, 'the warm-up')
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const concurrency of CONCURRENCIES) {
        const order = round % 2 === 0 ? contenders : [...contenders].reverse()
        for (const c of order) {
          const pushMs = await c.push(JOBS)
          const consumeMs = await c.consume(JOBS, concurrency)
          await expectDrained(c, `round ${round + 1}`)
          results.push[c.id].push(perSecond(JOBS, pushMs))
          results.consume[c.id][concurrency]!.push(perSecond(JOBS, consumeMs))
          log(
            `  round ${round + 1}, concurrency ${String(concurrency).padStart(2)}, ${c.id.padEnd(6)}: push ${fmt(perSecond(JOBS, pushMs))} jobs/s, consume ${fmt(perSecond(JOBS, consumeMs))} jobs/s`,
          )
        }
      }
    }

    const stops = await Promise.all(contenders.map((c) => c.startIdleWorker()))
    try {
      for (let i = 0; i < 100; i++) for (const c of contenders) await c.roundTrip()
      for (let i = 0; i < LATENCY_EVENTS; i++) {
        for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) results.latency[c.id].push(await c.roundTrip())
      }
    } finally {
      await Promise.all(stops.map((stop) => stop()))
    }
    for (const c of contenders) await expectDrained(c, 'the latency run')
  } finally {
    await Promise.allSettled(contenders.map((c) => c.close()))
  }
  return results
}

// ---------------------------------------------------------------------------------------------
// 3: the database driver

type Dialect = 'pgsql' | 'sqlite'

/** Where a run's tables live: a PostgreSQL schema of its own, or a temporary SQLite file. */
interface DatabaseTarget {
  readonly dialect: Dialect
  /** PostgreSQL schema, or SQLite file name. */
  readonly location: string
}

/**
 * The application's DatabaseManager, on a knex instance made here: PostgreSQL with the run's
 * schema first on the search_path (DatabaseConnectionConfig has no search_path setting), the
 * same pool as DatabaseManager opens. SQLite goes through DatabaseManager unchanged.
 */
class SchemaDatabaseManager extends DatabaseManager {
  private readonly knex: Knex

  constructor(config: DatabaseConfig, schema: string) {
    super(config, process.cwd())
    this.knex = knexFactory({ client: 'pg', connection: PG, searchPath: [schema], pool: { min: 0, max: 10 } })
  }

  override connection(): Promise<Knex> {
    return Promise.resolve(this.knex)
  }

  override async close(): Promise<void> {
    await this.knex.destroy()
  }
}

function openDatabase(target: DatabaseTarget): DatabaseManager {
  if (target.dialect === 'pgsql') {
    return new SchemaDatabaseManager({ default: 'bench', connections: { bench: { driver: 'pgsql', ...PG } } }, target.location)
  }
  return new DatabaseManager({ default: 'bench', connections: { bench: { driver: 'sqlite', filename: target.location } } }, process.cwd())
}

const DATABASE_QUEUE: QueueConfig = {
  default: 'database',
  connections: { database: { driver: 'database', database: 'bench', table: 'jobs', queue: 'default', retryAfter: 90 } },
  failed: { table: 'failed_jobs' },
}

async function createTables(target: DatabaseTarget): Promise<void> {
  if (target.dialect === 'pgsql') {
    const admin = knexFactory({ client: 'pg', connection: PG, pool: { min: 0, max: 1 } })
    try {
      await admin.raw('create schema ??', [target.location])
    } finally {
      await admin.destroy()
    }
  }
  const db = openDatabase(target)
  try {
    await new Migrator(await db.connection(), MIGRATIONS).latest()
  } finally {
    await db.close()
  }
}

async function dropTables(target: DatabaseTarget): Promise<void> {
  if (target.dialect === 'pgsql') {
    const admin = knexFactory({ client: 'pg', connection: PG, pool: { min: 0, max: 1 } })
    try {
      await admin.raw('drop schema if exists ?? cascade', [target.location])
    } finally {
      await admin.destroy()
    }
    return
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${target.location}${suffix}`, { force: true })
}

interface DatabaseRun {
  pushPerSec: number
  inProcess: number
  processes: number
  floor: number
}

/** Fills the jobs table by dispatching; resolves to push jobs/s. */
async function fillTable(target: DatabaseTarget, count: number): Promise<number> {
  const db = openDatabase(target)
  const { events, manager } = heraldSystem(DATABASE_QUEUE, () => db, new Tracker())
  try {
    return perSecond(count, await fill(count, () => events.dispatch(makeEvent())))
  } finally {
    await manager.close()
    await db.close()
  }
}

async function remainingRows(target: DatabaseTarget): Promise<number> {
  const db = openDatabase(target)
  try {
    const knex = await db.connection()
    const [row] = await knex('jobs').count<Array<{ count: number | string }>>({ count: '*' })
    return Number(row?.count ?? 0)
  } finally {
    await db.close()
  }
}

/** DB_WORKERS Herald Worker instances in this process, one shared manager; jobs/s. */
async function consumeInProcess(target: DatabaseTarget, count: number): Promise<number> {
  const db = openDatabase(target)
  const tracker = new Tracker()
  const { manager, failed } = heraldSystem(DATABASE_QUEUE, () => db, tracker)
  try {
    await (await db.connection()).raw('select 1')
    await manager.connection('database')
    const done = tracker.expect(count)
    const start = performance.now()
    const workers = Array.from(
      { length: DB_WORKERS },
      () => new Worker(manager, { ...WORKER_DEFAULTS, connection: 'database', queues: ['default'], concurrency: 1, stopWhenEmpty: true }),
    )
    const runs = Promise.all(workers.map((w) => w.run()))
    await withTimeout(Promise.all([done, runs]), `database consume (${target.dialect}, in process)`)
    const ms = tracker.lastAt - (performance.timeOrigin + start)
    if ((await failed.all()).length > 0) throw new Error(`${(await failed.all()).length} database job(s) failed`)
    return perSecond(count, ms)
  } finally {
    await manager.close()
    await db.close()
  }
}

type ChildMessage = { type: 'ready' } | { type: 'done'; runs: number; lastAt: number; failed: number } | { type: 'error'; message: string }

/** DB_WORKERS worker processes (this file with --db-child), started together once all are ready; jobs/s. */
async function consumeInProcesses(target: DatabaseTarget, count: number): Promise<number> {
  const children: ChildProcess[] = []
  const reports: Array<Promise<ChildMessage>> = []
  const ready: Array<Promise<void>> = []
  for (let i = 0; i < DB_WORKERS; i++) {
    // fork() passes this process's execArgv on, so the children load TypeScript through tsx too.
    const child = fork(fileURLToPath(import.meta.url), ['--db-child', JSON.stringify(target)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.push(child)
    let onReady!: () => void
    ready.push(new Promise((resolve) => (onReady = resolve)))
    reports.push(
      new Promise((resolve, reject) => {
        child.on('message', (message: ChildMessage) => {
          if (message.type === 'ready') onReady()
          else resolve(message)
        })
        child.on('exit', (code) => reject(new Error(`a database worker process exited with ${code} before reporting`)))
      }),
    )
  }
  try {
    await withTimeout(Promise.all(ready), 'starting the worker processes', 60_000)
    const start = performance.timeOrigin + performance.now()
    for (const child of children) child.send('go')
    const messages = await withTimeout(Promise.all(reports), `database consume (${target.dialect}, processes)`)
    let runs = 0
    let lastAt = start
    for (const message of messages) {
      if (message.type === 'error') throw new Error(`a database worker process failed: ${message.message}`)
      if (message.type !== 'done') continue
      if (message.failed > 0) throw new Error(`${message.failed} database job(s) failed`)
      runs += message.runs
      lastAt = Math.max(lastAt, message.lastAt)
    }
    if (runs < count) throw new Error(`the worker processes ran ${runs} of ${count} jobs`)
    return perSecond(count, lastAt - start)
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill()
  }
}

/** A worker process: one Herald Worker at concurrency 1, started on the parent's "go". */
async function childWorker(target: DatabaseTarget): Promise<void> {
  const send = (message: ChildMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()))
  const db = openDatabase(target)
  const tracker = new Tracker()
  const { manager, failed } = heraldSystem(DATABASE_QUEUE, () => db, tracker)
  try {
    await (await db.connection()).raw('select 1')
    await manager.connection('database')
    const go = new Promise<void>((resolve) => process.once('message', () => resolve()))
    await send({ type: 'ready' })
    await go
    await new Worker(manager, { ...WORKER_DEFAULTS, connection: 'database', queues: ['default'], concurrency: 1, stopWhenEmpty: true }).run()
    await send({ type: 'done', runs: tracker.runs, lastAt: tracker.lastAt, failed: (await failed.all()).length })
  } catch (error) {
    await send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  } finally {
    await manager.close()
    await db.close()
    process.disconnect()
  }
}

/**
 * The floor: DB_WORKERS loops in this process running the driver's claim and delete by hand
 * (the same statements, prepared once), parsing the payload and doing the same trivial work.
 */
async function consumeFloor(target: DatabaseTarget, count: number): Promise<number> {
  const db = openDatabase(target)
  const tracker = new Tracker()
  try {
    const knex = await db.connection()
    const lock = target.dialect === 'pgsql' ? ' for update skip locked' : ''
    const claimSql =
      'update jobs set reserved_at = ?, attempts = attempts + 1 where id = (select id from jobs where queue = ? and ' +
      `((reserved_at is null and available_at <= ?) or reserved_at <= ?) order by id limit 1${lock}) returning id, payload`
    const done = tracker.expect(count)
    const start = performance.now()
    const loop = async () => {
      for (;;) {
        const now = Date.now()
        const result: unknown = await knex.raw(claimSql, [now, 'default', now, now - 90_000])
        const rows = (target.dialect === 'pgsql' ? (result as { rows: unknown[] }).rows : result) as Array<{ id: number | string; payload: string }>
        const row = rows[0]
        if (row === undefined) return
        const envelope = JSON.parse(row.payload) as { data: { payload: { v?: { total?: number } } } }
        sink += envelope.data.payload.v?.total ?? 0
        tracker.hit()
        await knex.raw('delete from jobs where id = ? and reserved_at = ?', [row.id, now])
      }
    }
    await withTimeout(Promise.all([done, ...Array.from({ length: DB_WORKERS }, loop)]), `database floor (${target.dialect})`)
    return perSecond(count, tracker.lastAt - (performance.timeOrigin + start))
  } finally {
    await db.close()
  }
}

async function benchDatabase(target: DatabaseTarget, log: (line: string) => void): Promise<DatabaseRun> {
  await createTables(target)
  try {
    // Warm-up: the driver, knex and the pipeline in this process.
    await fillTable(target, Math.min(WARMUP_JOBS, DB_JOBS))
    await consumeInProcess(target, Math.min(WARMUP_JOBS, DB_JOBS))
    const step = async (label: string, consume: (target: DatabaseTarget, count: number) => Promise<number>): Promise<[number, number]> => {
      const push = await fillTable(target, DB_JOBS)
      const jobsPerSec = await consume(target, DB_JOBS)
      const left = await remainingRows(target)
      if (left !== 0) throw new Error(`${left} row(s) left in jobs after ${label}`)
      log(`  ${target.dialect.padEnd(6)} ${label.padEnd(26)}: push ${fmt(push)} jobs/s, consume ${fmt(jobsPerSec)} jobs/s`)
      return [push, jobsPerSec]
    }
    const [push1, inProcess] = await step(`${DB_WORKERS} Workers in one process`, consumeInProcess)
    const [push2, processes] = await step(`${DB_WORKERS} worker processes`, consumeInProcesses)
    const [push3, floor] = await step('floor (hand-written SQL)', consumeFloor)
    return { pushPerSec: median([push1, push2, push3]), inProcess, processes, floor }
  } finally {
    await dropTables(target)
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

interface Row {
  scenario: string
  unit: 'jobs/s' | 'ms'
  herald: number | null
  baseline: number | null
  baselineLabel: string
  /** herald ÷ baseline. */
  ratio: number | null
  target: string
  met: boolean | null
  error?: string
}

function throughputRow(scenario: string, herald: number, baseline: number, baselineLabel: string, minRatio: number | null): Row {
  const ratio = herald / baseline
  return {
    scenario,
    unit: 'jobs/s',
    herald,
    baseline,
    baselineLabel,
    ratio,
    target: minRatio === null ? '(info)' : `ratio >= ${minRatio.toFixed(2)}`,
    met: minRatio === null ? null : ratio >= minRatio,
  }
}

function errorRow(scenario: string, error: unknown): Row {
  const message = error instanceof Error ? error.message : String(error)
  return { scenario, unit: 'jobs/s', herald: null, baseline: null, baselineLabel: '', ratio: null, target: '', met: null, error: message }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const out = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line)
  const started = performance.now()
  out(`node ${process.version}; Redis ${REDIS_URL}; PostgreSQL ${PG.user}@${PG.host}:${PG.port}/${PG.database} (schema ${RUN_ID}); SQLite temp file`)
  out(
    `bullmq: ${fmt(JOBS)} jobs per measurement, ${ROUNDS} round(s), median; ${PUSH_WINDOW} pushes in flight while filling; ` +
      `consume timed from worker start to last handler run (push time not included)`,
  )
  out(`latency: ${fmt(LATENCY_EVENTS)} sequential events each, Herald and raw alternating; database: ${fmt(DB_JOBS)} jobs, ${DB_WORKERS} workers\n`)

  const rows: Row[] = []
  let bullmq: BullmqResults | null = null
  if (ONLY.has('bullmq')) {
    try {
      bullmq = await benchBullmq(out)
    } catch (error) {
      rows.push(errorRow('bullmq', error))
    } finally {
      try {
        await cleanRedis()
      } catch (error) {
        out(`could not delete the Redis keys ${RUN_ID}:*: ${String(error)}`)
      }
    }
  }
  if (bullmq !== null) {
    rows.push(throughputRow('bullmq push (dispatch vs Queue.add)', median(bullmq.push.herald), median(bullmq.push.raw), 'raw BullMQ', null))
    for (const c of CONCURRENCIES) {
      rows.push(throughputRow(`bullmq consume, concurrency ${c}`, median(bullmq.consume.herald[c]!), median(bullmq.consume.raw[c]!), 'raw BullMQ', 0.9))
    }
    const p50 = [percentile(bullmq.latency.herald, 50), percentile(bullmq.latency.raw, 50)] as const
    const p99 = [percentile(bullmq.latency.herald, 99), percentile(bullmq.latency.raw, 99)] as const
    rows.push({ scenario: 'bullmq latency p50', unit: 'ms', herald: p50[0], baseline: p50[1], baselineLabel: 'raw BullMQ', ratio: p50[0] / p50[1], target: 'ratio <= 1.50', met: p50[0] / p50[1] <= 1.5 })
    rows.push({ scenario: 'bullmq latency p99', unit: 'ms', herald: p99[0], baseline: p99[1], baselineLabel: 'raw BullMQ', ratio: p99[0] / p99[1], target: '(info)', met: null })
  }

  const allDatabases: DatabaseTarget[] = [
    { dialect: 'pgsql', location: RUN_ID },
    { dialect: 'sqlite', location: join(tmpdir(), `${RUN_ID}.sqlite`) },
  ]
  const databases = allDatabases.filter((target) => ONLY.has(target.dialect))
  const database: Partial<Record<Dialect, DatabaseRun>> = {}
  for (const target of databases) {
    const name = target.dialect === 'pgsql' ? 'PostgreSQL' : 'SQLite'
    try {
      const run = await benchDatabase(target, out)
      database[target.dialect] = run
      const absolute = (jobsPerSec: number): Pick<Row, 'target' | 'met'> =>
        target.dialect === 'pgsql' ? { target: '>= 2,000 jobs/s', met: jobsPerSec >= 2_000 } : { target: '(info)', met: null }
      rows.push({ ...throughputRow(`database ${name} push (dispatch)`, run.pushPerSec, run.floor, '', null), baseline: null, baselineLabel: '', ratio: null })
      rows.push({ ...throughputRow(`database ${name}, ${DB_WORKERS} Workers, 1 process`, run.inProcess, run.floor, 'hand-written SQL', null), ...absolute(run.inProcess) })
      rows.push({ ...throughputRow(`database ${name}, ${DB_WORKERS} processes`, run.processes, run.floor, 'hand-written SQL', null), ...absolute(run.processes) })
    } catch (error) {
      rows.push(errorRow(`database ${name}`, error))
      try {
        await dropTables(target)
      } catch {
        // Reported by the row above; nothing more to do.
      }
    }
  }

  const header = ['scenario', 'Herald', 'baseline', 'ratio', 'target', 'verdict']
  const value = (v: number | null, unit: Row['unit']) => (v === null ? '-' : unit === 'ms' ? `${v.toFixed(2)} ms` : `${fmt(v)}/s`)
  const cells = rows.map((r) =>
    r.error !== undefined
      ? [r.scenario, 'ERROR', '', '', '', r.error]
      : [
          r.scenario,
          value(r.herald, r.unit),
          r.baseline === null ? '-' : `${value(r.baseline, r.unit)} (${r.baselineLabel})`,
          r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
          r.target,
          r.met === null ? '' : r.met ? 'MET' : 'NOT MET',
        ],
  )
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (i === 5 ? 0 : c[i]!.length))))
  const line = (c: readonly string[]) => c.map((v, i) => (i === 0 || i >= 4 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd()
  out('')
  out(line(header))
  out(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const c of cells) out(line(c))
  out('\nratio = Herald ÷ baseline (throughput: higher is better; latency: lower is better)')
  out(`baseline "hand-written SQL": ${DB_WORKERS} loops in one process running the driver's claim and delete statements directly`)
  const seconds = (performance.now() - started) / 1000
  out(`\n(total ${seconds.toFixed(1)} s; sink ${sink.toExponential(3)})`)

  if (json) {
    console.log(
      JSON.stringify(
        {
          node: process.version,
          jobs: JOBS,
          rounds: ROUNDS,
          pushWindow: PUSH_WINDOW,
          latencyEvents: LATENCY_EVENTS,
          databaseJobs: DB_JOBS,
          databaseWorkers: DB_WORKERS,
          pushIncludedInConsume: false,
          rows,
          samples: bullmq,
          database,
          seconds,
        },
        null,
        2,
      ),
    )
  }
  process.exitCode = rows.some((r) => r.error !== undefined) ? 1 : 0
}

const childIndex = process.argv.indexOf('--db-child')
if (childIndex >= 0) await childWorker(JSON.parse(process.argv[childIndex + 1]!) as DatabaseTarget)
else await main()
