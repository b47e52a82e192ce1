/**
 * Queue throughput and latency: Herald's queued listeners on its bullmq and database drivers,
 * against raw BullMQ and a hand-written database claim loop, in one run. Run with
 * `npm run bench:queue` (add `-- --json` for a machine-readable result on stdout; the table then
 * goes to stderr). Needs Redis (REDIS_URL, default redis://127.0.0.1:6379) and PostgreSQL
 * (PGHOST / PGPORT / PGUSER / PGPASSWORD / PGDATABASE, default postgres@127.0.0.1:5432/test);
 * SQLite uses a temporary file. BENCH_JOBS, BENCH_ROUNDS, BENCH_LATENCY_EVENTS, BENCH_DB_JOBS
 * change the sizes; BENCH_ONLY=bullmq,pgsql,sqlite runs a subset.
 *
 * Every contender runs in a process of its own (this file, forked with --role), so what one
 * costs process-wide cannot land on another: Herald's AsyncLocalStorage turns on promise hooks
 * for every promise in its process, and its garbage is its own. Times and CPU are measured
 * inside that process; the parent only orchestrates.
 *
 * 1. BullMQ throughput. JOBS events are dispatched to a ShouldQueue listener (Herald: a
 *    QueueManager on a bullmq connection, pushed by `Dispatcher.dispatch`, run by Herald's
 *    `Worker`), and the same number of jobs are added to a raw BullMQ Queue (`Queue.add`, one
 *    job per call, as a dispatch makes one) and run by a raw BullMQ `Worker`. Push and consume
 *    are timed separately: the queue is filled first with PUSH_WINDOW pushes in flight (push
 *    jobs/s), then a worker is started and timed until the last handler has run (consume
 *    jobs/s: push time NOT included). Both handlers do the same trivial work. Each round runs
 *    both at concurrency 1 and 10, the order alternating per round; the figure is the median.
 * 2. Latency: LATENCY_EVENTS sequential events each, Herald and raw alternating event by event,
 *    each with a worker at concurrency 1 waiting: from the dispatch (`Queue.add`) call to the
 *    moment the listener (processor) has run, as the handler itself signals in its process (the
 *    same mechanism for both). p50 and p99.
 * 3. The database driver on PostgreSQL (a schema of its own, created by the project's
 *    migrations and dropped afterwards) and on SQLite (a temporary file): DB_JOBS jobs pushed by
 *    dispatch, then consumed by 4 workers, twice: 4 Herald `Worker` instances in one process
 *    (sharing one knex pool), and 4 worker processes (as 4 `queue:work` would be), timed from
 *    the start signal to the last listener run. The baseline is a floor: 4 loops in one process
 *    running the driver's own SQL by hand (claim with UPDATE ... RETURNING, then DELETE) with no
 *    Herald pipeline. Every consumer process first warms up on about DB_WARMUP_JOBS jobs (that
 *    many per process are pushed), as the BullMQ contenders do: V8 spends about a second of CPU
 *    per process tiering the hot code up, and with the 400 warm-up jobs this used to share among
 *    all consumers (100 per process) the 4-process figure timed mostly that compilation (1.2 s
 *    of extra CPU in each process at 10,000 jobs), which a long-running worker pays once.
 *
 * 4. Job middleware (BENCH_ONLY=ratelimited): a job class with `new RateLimited('bench')` whose limit
 *    is not hit (counted in Redis per tenant, 4 tenants) against the same job without middleware, on the
 *    bullmq connection of a booted application in a child process: BENCH_RL_JOBS jobs per
 *    measurement, consume timed from worker start to the last handle(), alternating per round,
 *    at concurrency 1 and 10; the overhead per job is the time ratio minus one (target <= 15%).
 *
 * 5. Job classes (BENCH_ONLY=jobs): the same trivial work queued as a ShouldQueue listener of a
 *    dispatched event and as a job class (`TickJob.dispatch(n)`), on the bullmq connection and
 *    on the database connection (PostgreSQL), in a booted application in a child process:
 *    BENCH_CLASS_JOBS pushes (PUSH_WINDOW in flight; push jobs/s), then a Worker timed from its
 *    start to the last handle(), at concurrency 1 and 10, the order alternating per round, in
 *    BENCH_CLASS_ROUNDS rounds (7). Target: a job costs no more than a queued listener (jobs/s
 *    within 5%); CPU per job is printed beside it.
 *
 * 6. Batches (BENCH_ONLY=batch): BENCH_BATCH_JOBS job classes pushed one by one, against the
 *    same number in one `Bus.batch([...])`, consumed by 4 worker processes (concurrency 10 each)
 *    on the database connection (PostgreSQL) and on BullMQ (job_batches on PostgreSQL), timed
 *    from the start signal until every job has run; then the counts are checked: every job ran
 *    once, and the batch's row says total N, pending 0, failed 0, finished (no lost update).
 *
 * Workers use `artisan queue:work`'s defaults (tries 1, timeout 60 s, memory 512 MB) without
 * the per-job output line. The benchmark exits 0 whatever the targets say (1 only when a
 * scenario could not run); targets are reported as MET / NOT MET.
 */
import { rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
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
import { BenchChild, serveParent, withTimeout as timeLimit } from './support/child-rpc.ts'
import { PG, REDIS_URL } from './support/services.ts'
import { median, percentile } from './support/stats.ts'
import { rateLimitedContender } from './support/rate-limited-contender.ts'
import { jobVsListenerContender, type QueuedKind } from './support/job-vs-listener-contender.ts'
import { batchFiller, batchWorker, type BatchConnection } from './support/batch-contender.ts'

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 1_000)
const DB_JOBS = Number(process.env.BENCH_DB_JOBS ?? 10_000)
const DB_WORKERS = 4
const WARMUP_JOBS = 2_000
/** Per consumer process: V8 tiers a process's hot code up over its first thousand jobs or so. */
const DB_WARMUP_JOBS = 2_000
/** Pushes in flight at once while filling a queue: many requests dispatching side by side. */
const PUSH_WINDOW = 100
const CONCURRENCIES = [1, 10] as const
/** A step that has not finished in this time is reported as an error, not waited for. */
const STEP_TIMEOUT_MS = 180_000
const RL_JOBS = Number(process.env.BENCH_RL_JOBS ?? 5_000)
const CLASS_JOBS = Number(process.env.BENCH_CLASS_JOBS ?? 5_000)
const BATCH_JOBS = Number(process.env.BENCH_BATCH_JOBS ?? 10_000)
/** Rounds of the job-class scenario: its contenders differ by a few percent, so it takes more than the others. */
const CLASS_ROUNDS = Number(process.env.BENCH_CLASS_ROUNDS ?? 7)
const ONLY = new Set((process.env.BENCH_ONLY ?? 'bullmq,pgsql,sqlite,ratelimited,jobs,batch').split(',').map((name) => name.trim()))

/** Everything a run creates is named after it (the children are given the parent's), so no one else's data is touched. */
const RUN_ID = process.env.HERALD_BENCH_RUN ?? `herald_bench_${process.pid}_${Date.now().toString(36)}`
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

// The handlers write here and it is reported, so their work cannot be dropped.
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
  // dispatches nothing has to be shown the class once (discovery does it in an application).
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

/** Wall time and this process's CPU time (user + system) of `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<Timed> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  await fn()
  const ms = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { ms, cpuMs: (used.user + used.system) / 1000 }
}

interface Timed {
  ms: number
  cpuMs: number
}

const perSecond = (count: number, ms: number): number => (count / ms) * 1000

// ---------------------------------------------------------------------------------------------
// Child processes

type Role = 'herald-bullmq' | 'raw-bullmq' | 'db-herald' | 'db-floor' | 'rate-limited' | 'jobs-bullmq' | 'jobs-database' | 'batch-filler' | 'batch-worker'

/** A step that must finish within STEP_TIMEOUT_MS. */
function withTimeout<T>(promise: Promise<T>, label: string, ms = STEP_TIMEOUT_MS): Promise<T> {
  return timeLimit(promise, label, ms)
}

/** A child process of this script running `spec`. */
function newChild(spec: ChildSpec): BenchChild {
  return new BenchChild(fileURLToPath(import.meta.url), ['--child', JSON.stringify(spec)], spec.role, { ...process.env, HERALD_BENCH_RUN: RUN_ID })
}

/** What the parent hands a child on its command line. */
interface ChildSpec {
  readonly role: Role
  readonly target?: DatabaseTarget
  /** Herald Workers (db-herald) or loops (db-floor) in the process. */
  readonly consumers?: number
  /** The queue connection of a batch-filler or batch-worker. */
  readonly connection?: BatchConnection
}


// ---------------------------------------------------------------------------------------------
// 1 and 2: BullMQ (in the herald-bullmq and raw-bullmq children)

/** Raw BullMQ as an application would use it for a job that has done its work: removed on completion. */
const RAW_JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: true }

/** What a BullMQ contender's process offers the parent. */
interface BullmqContender {
  /** Pushes `count` jobs. */
  push(count: number): Promise<Timed>
  /** Starts a worker on the filled queue and times it until `count` jobs have run. */
  consume(count: number, concurrency: number): Promise<Timed>
  startIdleWorker(): Promise<void>
  stopIdleWorker(): Promise<void>
  /** `count` sequential events, each from the dispatch call to the listener having run; ms each. */
  roundTrips(count: number): Promise<number[]>
  /** Jobs still waiting, and jobs failed, for the check after each step. */
  check(): Promise<{ waiting: number; failed: number }>
  sink(): Promise<number>
  close(): Promise<void>
}

function heraldBullmq(): BullmqContender {
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
  let idle: Worker | null = null
  return {
    push: (count) => timed(() => fill(count, () => events.dispatch(makeEvent()))),
    async consume(count, concurrency) {
      const done = tracker.expect(count)
      const w = worker(concurrency)
      try {
        return await timed(() => {
          const running = w.run().then(() => Promise.reject(new Error('the Herald worker stopped early')))
          return withTimeout(Promise.race([done, running]), 'Herald consume')
        })
      } finally {
        await w.stop()
      }
    },
    async startIdleWorker() {
      idle = worker(1)
      idle.run().catch(() => undefined)
    },
    async stopIdleWorker() {
      await idle?.stop()
    },
    async roundTrips(count) {
      const samples: number[] = []
      for (let i = 0; i < count; i++) {
        const done = tracker.expect(1)
        const start = performance.now()
        await events.dispatch(makeEvent())
        await withTimeout(done, 'a Herald round trip', 30_000)
        samples.push(performance.now() - start)
      }
      return samples
    },
    async check() {
      const driver = await manager.connection('bullmq')
      return { waiting: await driver.size('herald'), failed: (await failed.all()).length }
    },
    sink: async () => sink,
    close: () => manager.close(),
  }
}

function rawBullmq(): BullmqContender {
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
  let idle: BullWorker<OrderData> | null = null
  return {
    push: (count) => timed(() => fill(count, () => queue.add('SendReceipt', makeData(), RAW_JOB_OPTIONS))),
    async consume(count, concurrency) {
      const done = tracker.expect(count)
      let w: BullWorker<OrderData> | null = null
      try {
        return await timed(() => {
          w = worker(concurrency)
          return withTimeout(done, 'raw BullMQ consume')
        })
      } finally {
        await (w as BullWorker<OrderData> | null)?.close()
      }
    },
    async startIdleWorker() {
      idle = worker(1)
      await idle.waitUntilReady()
    },
    async stopIdleWorker() {
      await idle?.close()
    },
    async roundTrips(count) {
      const samples: number[] = []
      for (let i = 0; i < count; i++) {
        const done = tracker.expect(1)
        const start = performance.now()
        await queue.add('SendReceipt', makeData(), RAW_JOB_OPTIONS)
        await withTimeout(done, 'a raw BullMQ round trip', 30_000)
        samples.push(performance.now() - start)
      }
      return samples
    },
    async check() {
      return { waiting: await queue.count(), failed: failures }
    },
    sink: async () => sink,
    close: () => queue.close(),
  }
}

/** The parent's handle on a BullMQ contender process. */
function remoteBullmq(id: 'herald' | 'raw') {
  const child = newChild({ role: id === 'herald' ? 'herald-bullmq' : 'raw-bullmq' })
  return {
    id,
    push: (count: number) => child.call<Timed>('push', count),
    consume: (count: number, concurrency: number) => child.call<Timed>('consume', count, concurrency),
    startIdleWorker: () => child.call<void>('startIdleWorker'),
    stopIdleWorker: () => child.call<void>('stopIdleWorker'),
    roundTrips: (count: number) => child.call<number[]>('roundTrips', count),
    check: () => child.call<{ waiting: number; failed: number }>('check'),
    sink: () => child.call<number>('sink'),
    close: () => child.close(),
  }
}
type RemoteBullmq = ReturnType<typeof remoteBullmq>

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

async function expectDrained(contender: RemoteBullmq, step: string): Promise<void> {
  const { waiting, failed } = await contender.check()
  if (waiting !== 0 || failed !== 0) throw new Error(`${contender.id} after ${step}: ${waiting} job(s) still waiting, ${failed} failed`)
}

type Side = 'herald' | 'raw'
interface BullmqResults {
  push: Record<Side, Timed[]>
  consume: Record<Side, Record<number, Timed[]>>
  latency: Record<Side, number[]>
}

async function benchBullmq(log: (line: string) => void): Promise<BullmqResults> {
  const contenders = [remoteBullmq('herald'), remoteBullmq('raw')]
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
        for (const c of round % 2 === 0 ? contenders : [...contenders].reverse()) {
          const push = await c.push(JOBS)
          const consume = await c.consume(JOBS, concurrency)
          await expectDrained(c, `round ${round + 1}`)
          results.push[c.id].push(push)
          results.consume[c.id][concurrency]!.push(consume)
          log(
            `  round ${round + 1}, concurrency ${String(concurrency).padStart(2)}, ${c.id.padEnd(6)}: ` +
              `push ${fmt(perSecond(JOBS, push.ms))} jobs/s, consume ${fmt(perSecond(JOBS, consume.ms))} jobs/s ` +
              `(${cpuPerJob(consume, JOBS)} µs CPU/job)`,
          )
        }
      }
    }

    await Promise.all(contenders.map((c) => c.startIdleWorker()))
    try {
      for (const c of contenders) await c.roundTrips(100)
      for (let i = 0; i < LATENCY_EVENTS; i++) {
        for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) results.latency[c.id].push(...(await c.roundTrips(1)))
      }
    } finally {
      await Promise.all(contenders.map((c) => c.stopIdleWorker()))
    }
    for (const c of contenders) await expectDrained(c, 'the latency run')
    for (const c of contenders) sink += await c.sink()
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
 * The application's DatabaseManager on a knex instance made here: PostgreSQL with the run's
 * schema alone on the search_path (DatabaseConnectionConfig has no such setting) and the pool
 * DatabaseManager itself opens. SQLite goes through DatabaseManager unchanged.
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

async function withAdmin(fn: (admin: Knex) => Promise<unknown>): Promise<void> {
  const admin = knexFactory({ client: 'pg', connection: PG, pool: { min: 0, max: 1 } })
  try {
    await fn(admin)
  } finally {
    await admin.destroy()
  }
}

async function createTables(target: DatabaseTarget): Promise<void> {
  if (target.dialect === 'pgsql') await withAdmin((admin) => admin.raw('create schema ??', [target.location]))
  const db = openDatabase(target)
  try {
    await new Migrator(await db.connection(), MIGRATIONS).latest()
  } finally {
    await db.close()
  }
}

async function dropTables(target: DatabaseTarget): Promise<void> {
  if (target.dialect === 'pgsql') {
    await withAdmin((admin) => admin.raw('drop schema if exists ?? cascade', [target.location]))
    return
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${target.location}${suffix}`, { force: true })
}

/** Fills the jobs table by dispatching, in the parent. */
async function fillTable(target: DatabaseTarget, count: number): Promise<Timed> {
  const db = openDatabase(target)
  const { events, manager } = heraldSystem(DATABASE_QUEUE, () => db, new Tracker())
  try {
    return await timed(() => fill(count, () => events.dispatch(makeEvent())))
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

/** What a database consumer process reports after `run`. */
interface ConsumerReport {
  runs: number
  /** performance.timeOrigin-based time of its last handler run. */
  lastAt: number
  cpuMs: number
  failed: number
}

/** A database consumer process: Herald Workers (db-herald) or hand-written loops (db-floor). */
function databaseConsumer(spec: ChildSpec) {
  const target = spec.target!
  const consumers = spec.consumers ?? 1
  const db = openDatabase(target)
  const tracker = new Tracker()
  const { manager, failed } = heraldSystem(DATABASE_QUEUE, () => db, tracker)

  const herald = async () => {
    const workers = Array.from(
      { length: consumers },
      () => new Worker(manager, { ...WORKER_DEFAULTS, connection: 'database', queues: ['default'], concurrency: 1, stopWhenEmpty: true }),
    )
    await Promise.all(workers.map((w) => w.run()))
  }

  // The floor: the driver's claim and delete, by hand, with the same trivial work.
  const lock = target.dialect === 'pgsql' ? ' for update skip locked' : ''
  const claimSql =
    'update jobs set reserved_at = ?, attempts = attempts + 1 where id = (select id from jobs where queue = ? and ' +
    `((reserved_at is null and available_at <= ?) or reserved_at <= ?) order by id limit 1${lock}) returning id, payload`
  const floor = async () => {
    const knex = await db.connection()
    const loop = async () => {
      for (;;) {
        const now = Date.now()
        const result: unknown = await knex.raw(claimSql, [now, 'default', now, now - 90_000])
        const rows = (target.dialect === 'pgsql' ? (result as { rows: unknown[] }).rows : result) as Array<{ id: number | string; payload: string }>
        const row = rows[0]
        if (row === undefined) return
        const envelope = JSON.parse(row.payload) as { data?: { payload?: { v?: { total?: number } } } }
        sink += envelope.data?.payload?.v?.total ?? 0
        tracker.hit()
        await knex.raw('delete from jobs where id = ? and reserved_at = ?', [row.id, now])
      }
    }
    await Promise.all(Array.from({ length: consumers }, loop))
  }

  const consume = spec.role === 'db-floor' ? floor : herald
  return {
    /** Consumes whatever is there, untimed: connections open, code warm. */
    warmUp: async () => {
      await (await db.connection()).raw('select 1')
      await consume()
    },
    run: async (): Promise<ConsumerReport> => {
      const runs = tracker.runs
      const { cpuMs } = await timed(() => withTimeout(consume(), `database consume (${spec.role}, ${target.dialect})`))
      return { runs: tracker.runs - runs, lastAt: tracker.lastAt, cpuMs, failed: (await failed.all()).length }
    },
    close: async () => {
      await manager.close()
      await db.close()
    },
  }
}

interface DatabaseStep {
  push: Timed
  jobsPerSec: number
  /** CPU of the consumer process(es) per job, in µs. */
  cpuUsPerJob: number
}

/**
 * One measurement: `processes` consumer processes of `role` warm up on a few jobs, the table is
 * filled, then all are started at once; jobs/s from the start to the last handler run.
 */
async function databaseStep(target: DatabaseTarget, role: 'db-herald' | 'db-floor', processes: number, consumers: number): Promise<DatabaseStep> {
  const children = Array.from({ length: processes }, () => newChild({ role, target, consumers }))
  try {
    // Each process warms up on its own share, so 4 processes are not timed while still compiling.
    await fillTable(target, DB_WARMUP_JOBS * processes)
    await withTimeout(Promise.all(children.map((child) => child.call('warmUp'))), 'the database warm-up')
    if ((await remainingRows(target)) !== 0) throw new Error('jobs left after the warm-up')
    const push = await fillTable(target, DB_JOBS)
    const start = performance.timeOrigin + performance.now()
    const reports = await Promise.all(children.map((child) => child.call<ConsumerReport>('run')))
    let runs = 0
    let lastAt = start
    let cpuMs = 0
    for (const report of reports) {
      if (report.failed > 0) throw new Error(`${report.failed} database job(s) failed`)
      runs += report.runs
      lastAt = Math.max(lastAt, report.lastAt)
      cpuMs += report.cpuMs
    }
    const left = await remainingRows(target)
    if (runs < DB_JOBS || left !== 0) throw new Error(`${runs} of ${DB_JOBS} jobs ran, ${left} row(s) left`)
    return { push, jobsPerSec: perSecond(DB_JOBS, lastAt - start), cpuUsPerJob: (cpuMs * 1000) / DB_JOBS }
  } finally {
    await Promise.allSettled(children.map((child) => child.close()))
  }
}

interface DatabaseRun {
  push: Timed[]
  inProcess: DatabaseStep
  processes: DatabaseStep
  floor: DatabaseStep
}

async function benchDatabase(target: DatabaseTarget, log: (line: string) => void): Promise<DatabaseRun> {
  await createTables(target)
  try {
    const step = async (label: string, run: () => Promise<DatabaseStep>): Promise<DatabaseStep> => {
      const result = await run()
      log(
        `  ${target.dialect.padEnd(6)} ${label.padEnd(29)}: push ${fmt(perSecond(DB_JOBS, result.push.ms))} jobs/s, ` +
          `consume ${fmt(result.jobsPerSec)} jobs/s (${Math.round(result.cpuUsPerJob)} µs CPU/job)`,
      )
      return result
    }
    const inProcess = await step(`${DB_WORKERS} Workers in one process`, () => databaseStep(target, 'db-herald', 1, DB_WORKERS))
    const processes = await step(`${DB_WORKERS} worker processes`, () => databaseStep(target, 'db-herald', DB_WORKERS, 1))
    const floor = await step(`floor: ${DB_WORKERS} hand-written loops`, () => databaseStep(target, 'db-floor', 1, DB_WORKERS))
    return { push: [inProcess.push, processes.push, floor.push], inProcess, processes, floor }
  } finally {
    await dropTables(target)
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

function cpuPerJob(t: Timed, jobs: number): string {
  return String(Math.round((t.cpuMs * 1000) / jobs))
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

function row(scenario: string, unit: Row['unit'], herald: number, baseline: number | null, baselineLabel: string, target = '(info)', met: boolean | null = null): Row {
  return { scenario, unit, herald, baseline, baselineLabel, ratio: baseline === null ? null : herald / baseline, target, met }
}

function errorRow(scenario: string, error: unknown): Row {
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error)
  return { scenario, unit: 'jobs/s', herald: null, baseline: null, baselineLabel: '', ratio: null, target: '', met: null, error: message }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const out = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line)
  const started = performance.now()
  const load = loadavg().map((l) => l.toFixed(2)).join(' ')
  out(`node ${process.version}, ${cpus().length} CPUs, load average ${load} at start`)
  out(`Redis ${REDIS_URL}; PostgreSQL ${PG.user}@${PG.host}:${PG.port}/${PG.database}, schema ${RUN_ID}; SQLite in ${tmpdir()}`)
  out(
    `bullmq: ${fmt(JOBS)} jobs per measurement, ${ROUNDS} rounds (median), each contender in its own process; ` +
      `queue filled with ${PUSH_WINDOW} pushes in flight, then consume timed from worker start to last handler run (push not included)`,
  )
  out(`latency: ${fmt(LATENCY_EVENTS)} sequential events each, alternating; database: ${fmt(DB_JOBS)} jobs, ${DB_WORKERS} workers\n`)

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
  const cpuNotes: string[] = []
  if (bullmq !== null) {
    const rate = (samples: Timed[]) => median(samples.map((t) => perSecond(JOBS, t.ms)))
    const cpu = (samples: Timed[]) => median(samples.map((t) => (t.cpuMs * 1000) / JOBS))
    rows.push(row('bullmq push (dispatch vs Queue.add)', 'jobs/s', rate(bullmq.push.herald), rate(bullmq.push.raw), 'raw BullMQ'))
    cpuNotes.push(`bullmq push: Herald ${Math.round(cpu(bullmq.push.herald))} µs, raw ${Math.round(cpu(bullmq.push.raw))} µs`)
    for (const c of CONCURRENCIES) {
      const herald = rate(bullmq.consume.herald[c]!)
      const raw = rate(bullmq.consume.raw[c]!)
      rows.push(row(`bullmq consume, concurrency ${c}`, 'jobs/s', herald, raw, 'raw BullMQ', 'ratio >= 0.90', herald / raw >= 0.9))
      cpuNotes.push(`bullmq consume c=${c}: Herald ${Math.round(cpu(bullmq.consume.herald[c]!))} µs, raw ${Math.round(cpu(bullmq.consume.raw[c]!))} µs`)
    }
    const p50 = [percentile(bullmq.latency.herald, 50), percentile(bullmq.latency.raw, 50)] as const
    const p99 = [percentile(bullmq.latency.herald, 99), percentile(bullmq.latency.raw, 99)] as const
    rows.push(row('bullmq latency p50', 'ms', p50[0], p50[1], 'raw BullMQ', 'ratio <= 1.50', p50[0] / p50[1] <= 1.5))
    rows.push(row('bullmq latency p99', 'ms', p99[0], p99[1], 'raw BullMQ'))
  }

  const allDatabases: DatabaseTarget[] = [
    { dialect: 'pgsql', location: RUN_ID },
    { dialect: 'sqlite', location: join(tmpdir(), `${RUN_ID}.sqlite`) },
  ]
  const database: Partial<Record<Dialect, DatabaseRun>> = {}
  for (const target of allDatabases.filter((t) => ONLY.has(t.dialect))) {
    const name = target.dialect === 'pgsql' ? 'PostgreSQL' : 'SQLite'
    try {
      const run = await benchDatabase(target, out)
      database[target.dialect] = run
      const floor = run.floor.jobsPerSec
      const verdict = (jobsPerSec: number): [string, boolean | null] =>
        target.dialect === 'pgsql' ? ['>= 2,000 jobs/s', jobsPerSec >= 2_000] : ['(info)', null]
      rows.push(row(`database ${name} push (dispatch)`, 'jobs/s', median(run.push.map((t) => perSecond(DB_JOBS, t.ms))), null, ''))
      rows.push(row(`database ${name}, ${DB_WORKERS} Workers, 1 process`, 'jobs/s', run.inProcess.jobsPerSec, floor, 'hand-written SQL', ...verdict(run.inProcess.jobsPerSec)))
      rows.push(row(`database ${name}, ${DB_WORKERS} processes`, 'jobs/s', run.processes.jobsPerSec, floor, 'hand-written SQL', ...verdict(run.processes.jobsPerSec)))
      cpuNotes.push(
        `database ${name}: Herald ${Math.round(run.inProcess.cpuUsPerJob)} µs (1 process), ${Math.round(run.processes.cpuUsPerJob)} µs (${DB_WORKERS} processes), floor ${Math.round(run.floor.cpuUsPerJob)} µs`,
      )
    } catch (error) {
      rows.push(errorRow(`database ${name}`, error))
      try {
        await dropTables(target)
      } catch {
        // Reported by the row above.
      }
    }
  }

  if (ONLY.has('ratelimited')) {
    try {
      const child = newChild({ role: 'rate-limited' })
      try {
        const samples: Record<'plain' | 'limited', Record<number, Timed[]>> = { plain: {}, limited: {} }
        for (let round = 0; round < ROUNDS; round++) {
          for (const c of CONCURRENCIES) {
            const kinds = round % 2 === 0 ? (['plain', 'limited'] as const) : (['limited', 'plain'] as const)
            for (const kind of kinds) ((samples[kind][c] ??= [])).push((await child.call('consume', kind, RL_JOBS, c)) as Timed)
          }
        }
        for (const c of CONCURRENCIES) {
          const limited = median(samples.limited[c]!.map((t) => perSecond(RL_JOBS, t.ms)))
          const plain = median(samples.plain[c]!.map((t) => perSecond(RL_JOBS, t.ms)))
          // Time per job: plain / limited throughput; at most 1.15 is an overhead of at most 15%.
          rows.push(row(`RateLimited job (limit not hit), bullmq c=${c}`, 'jobs/s', limited, plain, 'same job, no middleware', 'overhead <= 15%', plain / limited <= 1.15))
          const cpu = (kind: 'plain' | 'limited') => median(samples[kind][c]!.map((t) => (t.cpuMs * 1000) / RL_JOBS))
          cpuNotes.push(`RateLimited c=${c}: overhead ${((plain / limited - 1) * 100).toFixed(1)}% per job; CPU ${Math.round(cpu('limited'))} µs vs ${Math.round(cpu('plain'))} µs without middleware`)
        }
      } finally {
        await child.close()
      }
    } catch (error) {
      rows.push(errorRow('RateLimited job', error))
    }
  }

  if (ONLY.has('jobs')) {
    for (const connection of ['bullmq', 'database'] as const) {
      try {
        const child = newChild({ role: connection === 'bullmq' ? 'jobs-bullmq' : 'jobs-database' })
        try {
          const samples: Record<QueuedKind, Record<number, Array<Timed & { pushMs: number }>>> = { listener: {}, job: {} }
          for (let round = 0; round < CLASS_ROUNDS; round++) {
            for (const c of CONCURRENCIES) {
              const kinds = round % 2 === 0 ? (['listener', 'job'] as const) : (['job', 'listener'] as const)
              for (const kind of kinds) (samples[kind][c] ??= []).push((await child.call('consume', kind, CLASS_JOBS, c)) as Timed & { pushMs: number })
            }
          }
          const label = connection === 'bullmq' ? 'bullmq' : 'database (PostgreSQL)'
          const pushes = (kind: QueuedKind) => median(CONCURRENCIES.flatMap((c) => samples[kind][c]!.map((t) => perSecond(CLASS_JOBS, t.pushMs))))
          rows.push(row(`job class push, ${label}`, 'jobs/s', pushes('job'), pushes('listener'), 'queued listener', 'within 5%', pushes('job') >= pushes('listener') * 0.95))
          for (const c of CONCURRENCIES) {
            const job = median(samples.job[c]!.map((t) => perSecond(CLASS_JOBS, t.ms)))
            const listener = median(samples.listener[c]!.map((t) => perSecond(CLASS_JOBS, t.ms)))
            rows.push(row(`job class consume, ${label} c=${c}`, 'jobs/s', job, listener, 'queued listener', 'within 5%', job >= listener * 0.95))
            const cpu = (kind: QueuedKind) => median(samples[kind][c]!.map((t) => (t.cpuMs * 1000) / CLASS_JOBS))
            cpuNotes.push(`job class ${label} c=${c}: CPU ${Math.round(cpu('job'))} µs per job vs ${Math.round(cpu('listener'))} µs for a queued listener`)
          }
        } finally {
          await child.close()
        }
      } catch (error) {
        rows.push(errorRow(`job class vs queued listener, ${connection}`, error))
      }
    }
  }

  if (ONLY.has('batch')) {
    for (const connection of ['database', 'bullmq'] as const) {
      const label = connection === 'bullmq' ? 'bullmq' : 'database (PostgreSQL)'
      try {
        const filler = newChild({ role: 'batch-filler', connection })
        const workers = Array.from({ length: DB_WORKERS }, () => newChild({ role: 'batch-worker', connection }))
        try {
          await withTimeout(filler.call('setUp'), 'batch set-up')
          await Promise.all(workers.map((worker) => withTimeout(worker.call('boot'), 'batch worker boot')))
          const samples: Record<'plain' | 'batch', number[]> = { plain: [], batch: [] }
          const problems: string[] = []
          for (let round = 0; round < ROUNDS; round++) {
            for (const kind of round % 2 === 0 ? (['plain', 'batch'] as const) : (['batch', 'plain'] as const)) {
              const id = (await withTimeout(filler.call('fill', kind, BATCH_JOBS), `${kind} fill`)) as string
              const ranSoFar = async () => (await Promise.all(workers.map((worker) => worker.call('ran') as Promise<number>))).reduce((a, b) => a + b, 0)
              const start = performance.now()
              await Promise.all(workers.map((worker) => worker.call('work')))
              await withTimeout(
                (async () => {
                  while ((await ranSoFar()) < BATCH_JOBS) await new Promise((resolve) => setTimeout(resolve, 20))
                })(),
                `${kind} of ${BATCH_JOBS} jobs`,
              )
              const ms = performance.now() - start
              await Promise.all(workers.map((worker) => worker.call('stop')))
              const total = await ranSoFar()
              if (total !== BATCH_JOBS) problems.push(`${kind}: ${total} runs for ${BATCH_JOBS} jobs`)
              if (kind === 'batch') {
                const counts = (await filler.call('counts', id)) as { total: number; pending: number; failed: number; finished: boolean }
                if (counts.total !== BATCH_JOBS || counts.pending !== 0 || counts.failed !== 0 || !counts.finished) problems.push(`batch counts ${JSON.stringify(counts)}`)
              }
              samples[kind].push(perSecond(BATCH_JOBS, ms))
            }
          }
          const exact = problems.length === 0
          rows.push(row(`batch of ${fmt(BATCH_JOBS)} jobs, 4 processes, ${label}`, 'jobs/s', median(samples.batch), median(samples.plain), 'same jobs, no batch', 'counts exact', exact))
          if (!exact) cpuNotes.push(`batch ${label}: ${problems.join('; ')}`)
        } finally {
          await Promise.all(workers.map((worker) => worker.close()))
          await filler.close()
        }
      } catch (error) {
        rows.push(errorRow(`batch, ${label}`, error))
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
  out(`"hand-written SQL": ${DB_WORKERS} loops in one process running the driver's claim and delete statements, no Herald pipeline`)
  if (cpuNotes.length > 0) {
    out('CPU time per job of the measured process(es), user + system (less sensitive to a busy machine than jobs/s):')
    for (const note of cpuNotes) out(`  ${note}`)
  }
  const seconds = (performance.now() - started) / 1000
  out(`\n(total ${seconds.toFixed(1)} s; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end; sink ${sink.toExponential(3)})`)

  if (json) {
    console.log(
      JSON.stringify(
        {
          node: process.version,
          cpus: cpus().length,
          jobs: JOBS,
          rounds: ROUNDS,
          pushWindow: PUSH_WINDOW,
          pushIncludedInConsume: false,
          latencyEvents: LATENCY_EVENTS,
          databaseJobs: DB_JOBS,
          databaseWorkers: DB_WORKERS,
          rows,
          bullmq,
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

/** A child process: builds its contender and serves the parent's requests. */
function child(spec: ChildSpec): void {
  if (spec.role === 'herald-bullmq' || spec.role === 'raw-bullmq') {
    const contender = spec.role === 'herald-bullmq' ? heraldBullmq() : rawBullmq()
    serveParent({
      push: (count) => contender.push(count),
      consume: (count, concurrency) => contender.consume(count, concurrency),
      startIdleWorker: () => contender.startIdleWorker(),
      stopIdleWorker: () => contender.stopIdleWorker(),
      roundTrips: (count) => contender.roundTrips(count),
      check: () => contender.check(),
      sink: () => contender.sink(),
      close: () => contender.close(),
    })
    return
  }
  if (spec.role === 'rate-limited') {
    // Served at once (a request must not arrive before the listener); the app boots on first use.
    const contender = rateLimitedContender(RUN_ID)
    serveParent({
      consume: async (kind, count, concurrency) => (await contender).consume(kind as 'plain' | 'limited', Number(count), Number(concurrency)),
      sink: async () => (await contender).sink(),
      close: async () => (await contender).close(),
    })
    return
  }
  if (spec.role === 'jobs-bullmq' || spec.role === 'jobs-database') {
    const contender = jobVsListenerContender(RUN_ID, spec.role === 'jobs-bullmq' ? 'bullmq' : 'database')
    serveParent({
      consume: async (kind, count, concurrency) => (await contender).consume(kind as QueuedKind, Number(count), Number(concurrency)),
      close: async () => (await contender).close(),
    })
    return
  }
  if (spec.role === 'batch-filler') {
    const filler = batchFiller(RUN_ID, spec.connection!)
    serveParent({
      setUp: () => filler.setUp(),
      fill: (kind, count) => filler.fill(kind as 'plain' | 'batch', Number(count)),
      counts: (id) => filler.counts(String(id)),
      close: () => filler.close(),
    })
    return
  }
  if (spec.role === 'batch-worker') {
    const worker = batchWorker(RUN_ID, spec.connection!)
    serveParent({ boot: () => worker.boot(), work: () => worker.work(), ran: () => worker.ran(), stop: () => worker.stop(), close: () => worker.close() })
    return
  }
  const consumer = databaseConsumer(spec)
  serveParent({ warmUp: () => consumer.warmUp(), run: () => consumer.run(), close: () => consumer.close() })
}

const childAt = process.argv.indexOf('--child')
if (childAt >= 0) child(JSON.parse(process.argv[childAt + 1]!) as ChildSpec)
else await main()
