/**
 * Herald's `database` queue driver on PostgreSQL against the two established PostgreSQL job
 * queues for Node.js, graphile-worker 0.18 and pg-boss 12, in one run. Run with
 * `npm run bench:pg-queue` (add `-- --json` for a machine-readable result on stdout; the table
 * then goes to stderr). Needs PostgreSQL (PGHOST / PGPORT / PGUSER / PGPASSWORD / PGDATABASE,
 * default postgres@127.0.0.1:5432/test) with the right to create databases, on this machine for
 * its CPU figures (/proc). BENCH_PG_JOBS (default 20,000), BENCH_PG_LATENCY_JOBS (default 500)
 * and BENCH_PG_BOSS_LATENCY_JOBS (default 25) change the sizes;
 * BENCH_PG_ONLY=herald,graphile,graphile-batched,boss10,boss100 runs a subset.
 *
 * Contenders. Each has a database of its own, `herald_pgq_<pid>_<name>`, created at the start
 * (with its tables: the project's migrations for Herald, `migrate()` for graphile-worker,
 * `start()` + `createQueue()` for pg-boss) and dropped at the end, also when a step failed.
 * - Herald: a `Dispatcher` with one `ShouldQueue` listener, a `QueueManager` on the `database`
 *   connection of the framework's default config (src/foundation/config.ts: lease 10 s,
 *   prefetch 500), and Herald's `Worker` as `artisan queue:work` builds it (tries 1, timeout 60 s,
 *   memory 512 MB, sleep 3 s, which on PostgreSQL also LISTENs for pushes; without the per-job
 *   output line). Enqueue is `await dispatcher.dispatch(new JobQueued(n))`.
 * - graphile-worker, defaults: `makeWorkerUtils().addJob()` to enqueue, `run({ concurrency,
 *   taskList })` to consume (LISTEN/NOTIFY, pollInterval 2 s, pool of 10).
 * - graphile-worker, batched: the same with its documented batching (worker.graphile.org/docs/
 *   performance#batching): `preset.worker.localQueue.size` 100, `completeJobBatchDelay` and
 *   `failJobBatchDelay` 0, as in the configuration of its published performance figures.
 * - pg-boss, batchSize 10 and batchSize 100: `boss.send()` to enqueue, `boss.work(name,
 *   { batchSize, localConcurrency }, async (jobs) => ...)` to consume. Its defaults otherwise
 *   (pollingIntervalSeconds 2, no LISTEN/NOTIFY: `useListenNotify` is off by default), with one
 *   exception: `burstWhenBatchFull: true`. Without it a pg-boss worker waits out the polling
 *   interval after every fetch, even a full one (dist/worker.js), so it drains batchSize jobs
 *   per 2 s, and 20,000 jobs would take over an hour; burst mode is pg-boss's documented way
 *   to drain a backlog (it only changes what happens after a full batch, so the idle latency
 *   and idle CPU are its defaults').
 * Every handler records the job's `n` (payload) and does no other work. "Concurrency" is
 * Herald's and graphile-worker's `concurrency`, and pg-boss's `localConcurrency` (pollers).
 *
 * Every step runs its contender in fresh processes (this file, forked with --child), driven
 * over IPC (support/child-rpc.ts): what a library costs process-wide (Herald's
 * AsyncLocalStorage, a pool's timers, garbage) stays in its process, and only that library is
 * even imported there. Times and CPU are measured inside the child; the parent orchestrates.
 * Scenarios run one after the other, each for every contender in turn, so a busy spell of
 * the machine is spread over contenders rather than landing on one.
 *
 * 1. enqueue: a producer process (connections opened first) enqueues N jobs, one call awaited
 *    after the other; jobs/s and the producer's CPU (process.cpuUsage, user + system) per job.
 *    The queue must then hold exactly N jobs.
 * 2. drain c1 / c4: N jobs already queued (the enqueue step's, or filled untimed with the
 *    library's batch insert), `VACUUM ANALYZE` (untimed, so autovacuum's timing is not a
 *    factor), then one worker process with its connections open is told to start at
 *    concurrency 1 (resp. 4), timed from that start signal to the N-th distinct handler run
 *    (jobs/s), and its CPU per job over the same span.
 * 3. latency: an idle worker process at concurrency 1 (each contender's default wake-up), and a
 *    producer process enqueueing LATENCY_JOBS jobs spaced out: each after the previous job's
 *    handler has run, plus 5-10 ms, so every job finds the worker idle. Latency is the handler's
 *    end minus the enqueue call's start, both read as performance.timeOrigin + performance.now()
 *    (one high-resolution wall clock across processes); p50 and p99 (nearest rank). The first
 *    LATENCY_WARMUP jobs warm the code and are not counted. pg-boss polls every 2 s by default
 *    and does not LISTEN, and a job sent just after the poll that ran the previous one waits
 *    for the next poll, so each of its jobs takes about 2 s: it gets BENCH_PG_BOSS_LATENCY_JOBS
 *    (default 25) jobs, or its two latency steps alone would take over half an hour.
 * 4. idle CPU: the same worker process, one second after its last job, over IDLE_MS with
 *    nothing to do (the producer closed): its CPU as a % of one core. Over the same window,
 *    PostgreSQL's CPU from /proc/<pid>/stat (utime + stime): of the backends connected to the
 *    contender's database (its polling and LISTEN), and of every postgres process (includes
 *    anything else using the server, e.g. tests running at the same time).
 * 5. NOTIFY cost (Herald only): its push statement against the same INSERT without the
 *    `pg_notify`, alternating rounds of 500 awaited pushes with a client LISTENing (target: the
 *    NOTIFY costs a push at most 10%).
 * Every step checks that exactly N (resp. the latency count) distinct jobs ran, none twice,
 * none failed, and that none is left in the queue once the worker stopped (Herald and
 * graphile-worker delete finished jobs; pg-boss keeps them as `completed`). A step that fails
 * a check, errs or times out is reported as an error in its cell.
 *
 * Targets (MET / NOT MET): drain >= 1.0x the best peer at concurrency 1 and 4; latency p50 <=
 * graphile-worker's (defaults) p50 and p99 <= 2x its p99; enqueue >= 1.0x the best peer;
 * Herald's idle worker < 1% of a core. The benchmark exits 0 whatever the targets say, 1 only
 * when a step could not run.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { Runner, TaskList, WorkerUtils } from 'graphile-worker'
import type { Job as BossJob, PgBoss } from 'pg-boss'
import type { DatabaseConfig } from '../src/index.ts'
import { BatchStatements } from '../src/queue/drivers/database-batch-statements.ts'
import { BenchChild, serveParent, withTimeout } from './support/child-rpc.ts'
import { PG } from './support/services.ts'

function sizeFrom(name: string, fallback: number): number {
  const raw = process.env[name]
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number above 0, got "${raw}"`)
  return value
}

const JOBS = sizeFrom('BENCH_PG_JOBS', 20_000)
const LATENCY_JOBS = sizeFrom('BENCH_PG_LATENCY_JOBS', 500)
const BOSS_LATENCY_JOBS = Math.min(LATENCY_JOBS, sizeFrom('BENCH_PG_BOSS_LATENCY_JOBS', 25))
/** Latency jobs run first and not counted: the worker's and producer's code is cold. */
const LATENCY_WARMUP = 5
/** The idle worker's CPU is measured over this long. */
const IDLE_MS = 5_000
/** Untimed fills: jobs per batch insert (graphile-worker, pg-boss), dispatches in flight (Herald). */
const FILL_BATCH = 1_000
const FILL_WINDOW = 100
/** A drain that has not finished in this time is an error (100 jobs/s would still make it). */
const DRAIN_TIMEOUT_MS = Math.max(180_000, JOBS * 10)
const STEP_TIMEOUT_MS = 180_000
/** graphile-worker's documented batching, as in the configuration of its performance figures. */
const GRAPHILE_BATCHING = { localQueue: { size: 100 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
const TASK = 'record'
const BOSS_QUEUE = 'bench'
const MIGRATIONS = fileURLToPath(new URL('../database/migrations', import.meta.url))

type ContenderId = 'herald' | 'graphile' | 'graphile-batched' | 'boss10' | 'boss100'
type Family = 'herald' | 'graphile' | 'boss'

interface ContenderSpec {
  readonly id: ContenderId
  readonly label: string
  readonly family: Family
}

const CONTENDERS: readonly ContenderSpec[] = [
  { id: 'herald', label: 'Herald', family: 'herald' },
  { id: 'graphile', label: 'graphile', family: 'graphile' },
  { id: 'graphile-batched', label: 'graphile batched', family: 'graphile' },
  { id: 'boss10', label: 'pg-boss 10', family: 'boss' },
  { id: 'boss100', label: 'pg-boss 100', family: 'boss' },
]
const PEERS = CONTENDERS.filter((c) => c.id !== 'herald')

/** `performance.timeOrigin + performance.now()`: a high-resolution wall clock comparable across processes. */
function wall(): number {
  return performance.timeOrigin + performance.now()
}

function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error)
}

// ---------------------------------------------------------------------------------------------
// The contenders, as a child process runs them

interface Producer {
  enqueue(n: number): Promise<unknown>
  /** Queues jobs 0..count-1 as fast as the library allows (untimed). */
  fill(count: number): Promise<void>
  close(): Promise<void>
}

interface Consumer {
  /** Starts consuming (connections are already open). */
  start(): Promise<void>
  /** Stops gracefully and closes its connections; idempotent. */
  stop(): Promise<void>
  /** Rejects when the library reports the worker failed. */
  readonly failure: Promise<never>
  /** Jobs the library reports as failed. */
  failures(): number
}

interface Contender {
  /** Creates the library's tables in the (new, empty) database. */
  setup(): Promise<void>
  producer(): Promise<Producer>
  consumer(concurrency: number, onJob: (n: number) => void): Promise<Consumer>
}

/** A promise that rejects when `fail` is called, already observed (no unhandled rejection). */
function failureSignal(): { promise: Promise<never>; fail(error: unknown): void } {
  let reject: (error: Error) => void = () => undefined
  const promise = new Promise<never>((_, r) => (reject = r))
  promise.catch(() => undefined)
  return { promise, fail: (error) => reject(error instanceof Error ? error : new Error(String(error))) }
}

/** Runs `count` calls of `push`, `window` in flight. */
async function windowed(count: number, window: number, push: (n: number) => Promise<unknown>): Promise<void> {
  for (let done = 0; done < count; ) {
    const batch = Math.min(window, count - done)
    await Promise.all(Array.from({ length: batch }, (_, i) => push(done + i)))
    done += batch
  }
}

function warning(label: string): (message: string) => void {
  return (message) => process.stderr.write(`  [${label}] warning: ${message}\n`)
}

async function heraldContender(database: string): Promise<Contender> {
  const herald = await import('../src/index.ts')
  const { Worker } = await import('../src/queue/worker.ts')
  const { defaultConfig } = await import('../src/foundation/config.ts')
  // The framework's defaults (no environment): the `database` connection with lease 10 s, prefetch 500.
  const queueConfig = defaultConfig(new herald.Env({})).queue
  const databaseConfig: DatabaseConfig = { default: 'bench', connections: { bench: { driver: 'pgsql', ...PG, database } } }
  const openDatabase = async () => {
    const db = new herald.DatabaseManager(databaseConfig, process.cwd())
    await (await db.connection()).raw('select 1')
    return db
  }

  class JobQueued {
    constructor(readonly n: number) {}
  }

  const system = (db: InstanceType<typeof herald.DatabaseManager>, onJob: (n: number) => void) => {
    const events = new herald.Dispatcher()
    const failed = new herald.MemoryFailedJobStore()
    const manager = new herald.QueueManager({
      config: queueConfig,
      events,
      database: () => db,
      discovery: () => undefined,
      logger: herald.createLogger('warn'),
      failedJobs: async () => failed,
    })
    events.useQueue(manager)
    class RecordJob extends herald.ShouldQueue(herald.Listener.for(JobQueued)) {
      handle(event: JobQueued) {
        onJob(event.n)
      }
    }
    events.listen(JobQueued, RecordJob)
    // A worker rebuilds events from classes the dispatcher has seen (discovery does it in an app).
    events.hasListeners(JobQueued)
    return { events, manager, failed }
  }

  return {
    async setup() {
      const db = await openDatabase()
      try {
        await new herald.Migrator(await db.connection(), MIGRATIONS).latest()
      } finally {
        await db.close()
      }
    },
    async producer() {
      const db = await openDatabase()
      const { events, manager } = system(db, () => {
        throw new Error('a job ran in the producer process')
      })
      return {
        enqueue: (n) => events.dispatch(new JobQueued(n)),
        fill: (count) => windowed(count, FILL_WINDOW, (n) => events.dispatch(new JobQueued(n))),
        async close() {
          await manager.close()
          await db.close()
        },
      }
    },
    async consumer(concurrency, onJob) {
      const db = await openDatabase()
      const { manager, failed } = system(db, onJob)
      const { promise, fail } = failureSignal()
      let failedJobs = 0
      let worker: InstanceType<typeof Worker> | null = null
      let stopping: Promise<void> | null = null
      return {
        failure: promise,
        failures: () => failedJobs,
        async start() {
          // `artisan queue:work`'s defaults, minus the per-job output line.
          worker = new Worker(manager, {
            connection: 'database',
            queues: [manager.defaultQueue('database')],
            concurrency,
            defaults: { tries: 1, backoff: 0, timeout: 60 },
            sleep: 3,
            stopWhenEmpty: false,
            maxJobs: 0,
            maxTime: 0,
            memory: 512,
            onWarning: warning('herald'),
          })
          worker.run().then(
            (summary) => {
              if (stopping === null) fail(new Error(`the Herald worker stopped by itself (${summary.reason})`))
            },
            (error: unknown) => fail(error),
          )
        },
        stop() {
          stopping ??= (async () => {
            try {
              await worker?.stop()
              failedJobs = (await failed.all()).length
            } finally {
              await manager.close()
              await db.close()
            }
          })()
          return stopping
        },
      }
    },
  }
}

async function graphileContender(database: string, batched: boolean): Promise<Contender> {
  const graphile = await import('graphile-worker')
  // Errors and warnings only; graphile-worker logs every job at info level otherwise.
  const logger = new graphile.Logger(() => (level, message) => {
    if (level === 'error' || level === 'warning') process.stderr.write(`  [graphile-worker] ${level}: ${message}\n`)
  })
  /** A pool like the one graphile-worker makes from a connection string (10 clients), opened first. */
  const openPool = async () => {
    const pool = new pg.Pool({ ...PG, database, max: 10 })
    const warn = warning('graphile-worker pool')
    pool.on('error', (error) => warn(error.message))
    pool.on('connect', (client) => client.on('error', (error) => warn(error.message)))
    await pool.query('select 1')
    return pool
  }
  const utilsOn = async (pool: pg.Pool): Promise<WorkerUtils> => graphile.makeWorkerUtils({ pgPool: pool, logger })

  return {
    async setup() {
      const pool = await openPool()
      try {
        const utils = await utilsOn(pool)
        await utils.migrate()
        await utils.release()
      } finally {
        await pool.end()
      }
    },
    async producer() {
      const pool = await openPool()
      const utils = await utilsOn(pool)
      return {
        enqueue: (n) => utils.addJob(TASK, { n }),
        async fill(count) {
          for (let from = 0; from < count; from += FILL_BATCH) {
            const specs = Array.from({ length: Math.min(FILL_BATCH, count - from) }, (_, i) => ({ identifier: TASK, payload: { n: from + i } }))
            await utils.addJobs(specs)
          }
        },
        async close() {
          await utils.release()
          await pool.end()
        },
      }
    },
    async consumer(concurrency, onJob) {
      const pool = await openPool()
      const { promise, fail } = failureSignal()
      let failedJobs = 0
      let runner: Runner | null = null
      let stopping: Promise<void> | null = null
      const taskList: TaskList = {
        [TASK]: (payload) => {
          onJob((payload as { n: number }).n)
        },
      }
      return {
        failure: promise,
        failures: () => failedJobs,
        async start() {
          runner = await graphile.run({
            pgPool: pool,
            concurrency,
            taskList,
            logger,
            noHandleSignals: true,
            ...(batched ? { preset: { worker: GRAPHILE_BATCHING } } : {}),
          })
          runner.events.on('job:failed', () => failedJobs++)
          runner.promise.then(
            () => {
              if (stopping === null) fail(new Error('the graphile-worker runner stopped by itself'))
            },
            (error: unknown) => fail(error),
          )
        },
        stop() {
          stopping ??= (async () => {
            try {
              await runner?.stop()
            } finally {
              await pool.end()
            }
          })()
          return stopping
        },
      }
    },
  }
}

async function bossContender(database: string, batchSize: number): Promise<Contender> {
  const { PgBoss: Boss } = await import('pg-boss')
  const warned = new Set<string>()
  /** A started PgBoss with its defaults. */
  const startBoss = async (onError: (error: Error) => void): Promise<PgBoss> => {
    const boss = new Boss({ ...PG, database })
    boss.on('error', onError)
    boss.on('warning', (w) => {
      // Once per message: a backlog warning, for one, would repeat.
      if (warned.has(w.message)) return
      warned.add(w.message)
      process.stderr.write(`  [pg-boss] warning: ${w.message}\n`)
    })
    await boss.start()
    return boss
  }
  const stopBoss = (boss: PgBoss) => boss.stop({ graceful: true, close: true, timeout: 10_000 })
  const logError = (error: Error) => process.stderr.write(`  [pg-boss] error: ${error.message}\n`)

  return {
    async setup() {
      const boss = await startBoss(logError)
      try {
        await boss.createQueue(BOSS_QUEUE)
      } finally {
        await stopBoss(boss)
      }
    },
    async producer() {
      const boss = await startBoss(logError)
      return {
        enqueue: (n) => boss.send(BOSS_QUEUE, { n }),
        async fill(count) {
          for (let from = 0; from < count; from += FILL_BATCH) {
            await boss.insert(
              BOSS_QUEUE,
              Array.from({ length: Math.min(FILL_BATCH, count - from) }, (_, i) => ({ data: { n: from + i } })),
            )
          }
        },
        close: () => stopBoss(boss),
      }
    },
    async consumer(concurrency, onJob) {
      const { promise, fail } = failureSignal()
      const boss = await startBoss(fail)
      let stopping: Promise<void> | null = null
      return {
        failure: promise,
        failures: () => 0,
        async start() {
          await boss.work(BOSS_QUEUE, { batchSize, localConcurrency: concurrency, burstWhenBatchFull: true }, async (jobs: Array<BossJob<{ n: number }>>) => {
            for (const job of jobs) onJob(job.data.n)
          })
        },
        stop() {
          stopping ??= stopBoss(boss)
          return stopping
        },
      }
    },
  }
}

function contenderFor(id: ContenderId, database: string): Promise<Contender> {
  switch (id) {
    case 'herald':
      return heraldContender(database)
    case 'graphile':
      return graphileContender(database, false)
    case 'graphile-batched':
      return graphileContender(database, true)
    case 'boss10':
      return bossContender(database, 10)
    case 'boss100':
      return bossContender(database, 100)
  }
}

/** The worker process's record of handler runs, by payload `n`. */
class Recorder {
  runs = 0
  duplicates = 0
  outOfRange = 0
  /** wall() of the last handler run. */
  lastAt = 0
  private readonly seen = new Set<number>()
  private readonly finishedAt = new Map<number, number>()
  private readonly waiters = new Map<number, (at: number) => void>()
  private resolveDone: () => void = () => undefined
  /** Resolves once `expected` distinct jobs have run. */
  readonly done: Promise<void>

  /** `track`: keep each job's end time, for `waitFor` (the latency run). */
  constructor(
    private readonly expected: number,
    private readonly track: boolean,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve))
  }

  hit(n: number): void {
    const at = wall()
    this.runs++
    this.lastAt = at
    if (!Number.isInteger(n) || n < 0 || n >= this.expected) this.outOfRange++
    else if (this.seen.has(n)) this.duplicates++
    else {
      this.seen.add(n)
      if (this.seen.size === this.expected) this.resolveDone()
    }
    const waiter = this.waiters.get(n)
    if (waiter !== undefined) {
      this.waiters.delete(n)
      waiter(at)
    } else if (this.track) {
      // The job may have run before the parent's question reached this process.
      this.finishedAt.set(n, at)
    }
  }

  /** wall() at the end of job `n`'s handler. */
  waitFor(n: number): Promise<number> {
    const at = this.finishedAt.get(n)
    if (at !== undefined) return Promise.resolve(at)
    return new Promise((resolve) => this.waiters.set(n, resolve))
  }

  stats(): RunStats {
    return { runs: this.runs, distinct: this.seen.size, duplicates: this.duplicates, outOfRange: this.outOfRange }
  }
}

interface RunStats {
  runs: number
  distinct: number
  duplicates: number
  outOfRange: number
}

interface EnqueueReport {
  ms: number
  cpuUs: number
}

interface DrainReport extends RunStats {
  ms: number
  cpuUs: number
  failed: number
}

interface IdleReport {
  cpuMs: number
  wallMs: number
  runs: number
}

interface ChildSpec {
  readonly contender: ContenderId
  readonly database: string
}

/** A child process: one contender, as a producer or a worker (or for the setup). */
function child(spec: ChildSpec): void {
  let contender: Promise<Contender> | null = null
  const impl = () => (contender ??= contenderFor(spec.contender, spec.database))
  let producer: Producer | null = null
  let consumer: Consumer | null = null
  let recorder: Recorder | null = null
  const needProducer = () => {
    if (producer === null) throw new Error('no producer: call prepareProducer first')
    return producer
  }
  const needConsumer = () => {
    if (consumer === null || recorder === null) throw new Error('no worker: call prepareWorker first')
    return { consumer, recorder }
  }
  serveParent({
    setup: async () => (await impl()).setup(),
    prepareProducer: async () => {
      producer = await (await impl()).producer()
    },
    enqueue: async (count: number): Promise<EnqueueReport> => {
      const p = needProducer()
      const cpu = process.cpuUsage()
      const start = performance.now()
      for (let n = 0; n < count; n++) await p.enqueue(n)
      const ms = performance.now() - start
      const used = process.cpuUsage(cpu)
      return { ms, cpuUs: used.user + used.system }
    },
    enqueueOne: async (n: number): Promise<number> => {
      const p = needProducer()
      const at = wall()
      await p.enqueue(n)
      return at
    },
    fill: (count: number) => needProducer().fill(count),
    closeProducer: async () => {
      await producer?.close()
      producer = null
    },
    prepareWorker: async (concurrency: number, expected: number, track: number) => {
      const r = new Recorder(expected, track === 1)
      recorder = r
      consumer = await (await impl()).consumer(concurrency, (n) => r.hit(n))
    },
    drain: async (): Promise<DrainReport> => {
      const { consumer: c, recorder: r } = needConsumer()
      const cpu = process.cpuUsage()
      const start = wall()
      await c.start()
      await withTimeout(Promise.race([r.done, c.failure]), 'the drain', DRAIN_TIMEOUT_MS)
      const used = process.cpuUsage(cpu)
      const ms = r.lastAt - start
      await withTimeout(c.stop(), 'stopping the worker', 30_000)
      return { ms, cpuUs: used.user + used.system, failed: c.failures(), ...r.stats() }
    },
    startIdle: async () => {
      const { consumer: c } = needConsumer()
      await Promise.race([c.start(), c.failure])
    },
    waitFor: async (n: number): Promise<number> => {
      const { consumer: c, recorder: r } = needConsumer()
      return Promise.race([r.waitFor(n), c.failure])
    },
    idleCpu: async (ms: number): Promise<IdleReport> => {
      const { consumer: c, recorder: r } = needConsumer()
      const runs = r.runs
      const cpu = process.cpuUsage()
      const start = performance.now()
      await Promise.race([sleep(ms), c.failure])
      const used = process.cpuUsage(cpu)
      return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - start, runs: r.runs - runs }
    },
    stopWorker: async (): Promise<RunStats & { failed: number }> => {
      const { consumer: c, recorder: r } = needConsumer()
      await withTimeout(c.stop(), 'stopping the worker', 30_000)
      return { ...r.stats(), failed: c.failures() }
    },
    close: async () => {
      const closing = [producer?.close(), consumer?.stop()]
      await Promise.allSettled(closing)
    },
  })
}

// ---------------------------------------------------------------------------------------------
// The parent: databases, steps, checks

/** Queries on one contender's database, from the parent (counts, cleanup, VACUUM). */
class ContenderDatabase {
  private client: pg.Client | null = null

  constructor(
    readonly spec: ContenderSpec,
    readonly name: string,
  ) {}

  private async connection(): Promise<pg.Client> {
    if (this.client === null) {
      const client = new pg.Client({ ...PG, database: this.name })
      client.on('error', () => undefined)
      await client.connect()
      this.client = client
    }
    return this.client
  }

  /** Jobs not done: waiting, running or failed. */
  async pending(): Promise<number> {
    const sql = {
      herald: 'select count(*)::int as n from jobs',
      graphile: 'select count(*)::int as n from graphile_worker._private_jobs',
      boss: `select count(*)::int as n from pgboss.job where name = '${BOSS_QUEUE}' and state <> 'completed'`,
    }[this.spec.family]
    const result = await (await this.connection()).query<{ n: number }>(sql)
    return result.rows[0]?.n ?? 0
  }

  async clear(): Promise<void> {
    const sql = { herald: 'delete from jobs', graphile: 'delete from graphile_worker._private_jobs', boss: 'delete from pgboss.job' }[this.spec.family]
    await (await this.connection()).query(sql)
  }

  async vacuum(): Promise<void> {
    await (await this.connection()).query('vacuum analyze')
  }

  async close(): Promise<void> {
    const client = this.client
    this.client = null
    await client?.end().catch(() => undefined)
  }
}

async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ ...PG })
  admin.on('error', () => undefined)
  await admin.connect()
  try {
    return await fn(admin)
  } finally {
    await admin.end().catch(() => undefined)
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

function newChild(db: ContenderDatabase, role: string): BenchChild {
  const spec: ChildSpec = { contender: db.spec.id, database: db.name }
  return new BenchChild(fileURLToPath(import.meta.url), ['--child', JSON.stringify(spec)], `${db.spec.id} ${role}`)
}

/** Runs `fn` with a fresh child process, closed afterwards whatever happens. */
async function withChild<T>(db: ContenderDatabase, role: string, fn: (child: BenchChild) => Promise<T>): Promise<T> {
  const child = newChild(db, role)
  try {
    return await fn(child)
  } finally {
    await child.close()
  }
}

/** The checks every step makes of a worker's runs. */
function checkRuns(stats: RunStats & { failed: number }, expected: number): void {
  const problems: string[] = []
  if (stats.distinct !== expected) problems.push(`${stats.distinct} of ${expected} distinct jobs ran`)
  if (stats.duplicates > 0) problems.push(`${stats.duplicates} ran twice`)
  if (stats.outOfRange > 0) problems.push(`${stats.outOfRange} unknown job(s) ran`)
  if (stats.failed > 0) problems.push(`${stats.failed} failed`)
  if (problems.length > 0) throw new Error(problems.join(', '))
}

async function expectPending(db: ContenderDatabase, expected: number, when: string): Promise<void> {
  const pending = await db.pending()
  if (pending !== expected) throw new Error(`${pending} job(s) in the queue ${when}, expected ${expected}`)
}

/** Contenders whose queue holds exactly the enqueue step's N jobs, which the c1 drain then uses. */
const freshlyEnqueued = new Set<ContenderId>()

async function enqueueStep(db: ContenderDatabase): Promise<{ jobsPerSec: number; cpuUsPerJob: number }> {
  if ((await db.pending()) > 0) await db.clear()
  const report = await withChild(db, 'producer', async (producer) => {
    await withTimeout(producer.call('prepareProducer'), 'opening the producer', STEP_TIMEOUT_MS)
    return withTimeout(producer.call<EnqueueReport>('enqueue', JOBS), 'the enqueue', DRAIN_TIMEOUT_MS)
  })
  await expectPending(db, JOBS, 'after the enqueue')
  freshlyEnqueued.add(db.spec.id)
  return { jobsPerSec: (JOBS / report.ms) * 1000, cpuUsPerJob: report.cpuUs / JOBS }
}

/** Leaves exactly JOBS jobs queued, untimed: the enqueue step's if they are there, else filled in bulk. */
async function ensureQueued(db: ContenderDatabase): Promise<void> {
  const reuse = freshlyEnqueued.delete(db.spec.id) && (await db.pending()) === JOBS
  if (!reuse) {
    if ((await db.pending()) > 0) await db.clear()
    await withChild(db, 'filler', async (producer) => {
      await withTimeout(producer.call('prepareProducer'), 'opening the producer', STEP_TIMEOUT_MS)
      await withTimeout(producer.call('fill', JOBS), 'filling the queue', DRAIN_TIMEOUT_MS)
    })
    await expectPending(db, JOBS, 'after the fill')
  }
  await db.vacuum()
}

async function drainStep(db: ContenderDatabase, concurrency: number): Promise<{ jobsPerSec: number; cpuUsPerJob: number }> {
  await ensureQueued(db)
  const report = await withChild(db, `worker c${concurrency}`, async (worker) => {
    await withTimeout(worker.call('prepareWorker', concurrency, JOBS, 0), 'opening the worker', STEP_TIMEOUT_MS)
    return worker.call<DrainReport>('drain')
  })
  checkRuns(report, JOBS)
  await expectPending(db, 0, 'after the drain')
  return { jobsPerSec: (JOBS / report.ms) * 1000, cpuUsPerJob: report.cpuUs / JOBS }
}

// PostgreSQL's CPU, from /proc (the server runs on this machine).

let clockTicks = 0
function ticksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** utime + stime (ticks) of every postgres process, and whether it is a backend of `database`. */
function postgresProcesses(database: string): Map<number, { ticks: number; own: boolean }> {
  const found = new Map<number, { ticks: number; own: boolean }>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue
      // Fields after "pid (comm) ": state is field 3, utime 14, stime 15.
      const fields = stat.slice(close + 2).split(' ')
      const ticks = Number(fields[11]) + Number(fields[12])
      // A backend's title: "postgres: 15/main: <user> <database> <client> <state>".
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      found.set(Number(entry), { ticks, own: title.includes(` ${database} `) })
    } catch {
      // Exited, or not ours to read.
    }
  }
  return found
}

/** % of one core used by postgres processes between two snapshots: all of them, and the contender's backends. */
function postgresCpu(before: ReturnType<typeof postgresProcesses>, after: ReturnType<typeof postgresProcesses>, wallMs: number) {
  let all = 0
  let own = 0
  for (const [pid, now] of after) {
    const delta = now.ticks - (before.get(pid)?.ticks ?? 0)
    all += delta
    if (now.own) own += delta
  }
  const percent = (ticks: number) => ((ticks / ticksPerSecond()) * 1000 * 100) / wallMs
  return { all: percent(all), own: percent(own) }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** Pushes per round, and rounds, of the NOTIFY cost step. */
const NOTIFY_ROUND = 500
const NOTIFY_ROUNDS = 10

/**
 * 5. What the NOTIFY costs a push: Herald's push statement (the INSERT and its `pg_notify` in
 * one round trip) against the same INSERT without it, on Herald's database, one statement
 * awaited after the other, with a client LISTENing on the channel as an idle worker would.
 * Rounds of NOTIFY_ROUND pushes alternate between the two (the order swapped every round);
 * the cost is the ratio of the median round times, minus 1.
 */
async function notifyCostStep(db: ContenderDatabase): Promise<{ notify: number; plain: number; costPercent: number }> {
  const numbered = (sql: string) => {
    let n = 0
    return sql.replace(/\?/g, () => `$${++n}`)
  }
  const push = new BatchStatements('"jobs"', 'pgsql').pgPush
  const withNotify = numbered(push)
  const without = numbered(push.replace(", pg_notify(?, '')", ''))
  if (without === withNotify) throw new Error('the push statement has no pg_notify to leave out')
  const channel = 'herald:jobs:notify-cost'
  const pusher = new pg.Client({ ...PG, database: db.name })
  const listener = new pg.Client({ ...PG, database: db.name })
  for (const client of [pusher, listener]) client.on('error', () => undefined)
  await pusher.connect()
  await listener.connect()
  try {
    await listener.query(`listen ${quoteIdent(channel)}`)
    const round = async (notify: boolean): Promise<number> => {
      const started = performance.now()
      for (let i = 0; i < NOTIFY_ROUND; i++) {
        const now = Date.now()
        const values = notify ? ['notify-cost', '{}', now, now, channel] : ['notify-cost', '{}', now, now]
        await pusher.query({ name: notify ? 'notify' : 'plain', text: notify ? withNotify : without, values })
      }
      return performance.now() - started
    }
    const times = { notify: [] as number[], plain: [] as number[] }
    for (let r = 0; r < NOTIFY_ROUNDS; r++) {
      for (const notify of r % 2 === 0 ? [true, false] : [false, true]) times[notify ? 'notify' : 'plain'].push(await round(notify))
    }
    await pusher.query(`delete from jobs where queue = 'notify-cost'`)
    const notify = percentile(times.notify, 50)
    const plain = percentile(times.plain, 50)
    return { notify: (NOTIFY_ROUND * 1000) / notify, plain: (NOTIFY_ROUND * 1000) / plain, costPercent: (notify / plain - 1) * 100 }
  } finally {
    await pusher.end().catch(() => undefined)
    await listener.end().catch(() => undefined)
  }
}

interface LatencyResult {
  p50: number
  p99: number
  samples: number
  idleCpu: number
  pgOwnCpu: number | null
  pgAllCpu: number | null
}

async function latencyStep(db: ContenderDatabase, log: (line: string) => void): Promise<LatencyResult> {
  freshlyEnqueued.delete(db.spec.id)
  if ((await db.pending()) > 0) await db.clear()
  await db.vacuum()
  const measured = db.spec.family === 'boss' ? BOSS_LATENCY_JOBS : LATENCY_JOBS
  const total = LATENCY_WARMUP + measured
  return withChild(db, 'idle worker', async (worker) => {
    await withTimeout(worker.call('prepareWorker', 1, total, 1), 'opening the worker', STEP_TIMEOUT_MS)
    await withTimeout(worker.call('startIdle'), 'starting the worker', STEP_TIMEOUT_MS)
    // Let it settle into its idle state (LISTEN connections open, first poll done).
    await sleep(1_500)
    const samples: number[] = []
    await withChild(db, 'producer', async (producer) => {
      await withTimeout(producer.call('prepareProducer'), 'opening the producer', STEP_TIMEOUT_MS)
      for (let n = 0; n < total; n++) {
        const finished = worker.call<number>('waitFor', n)
        finished.catch(() => undefined)
        const startedAt = await withTimeout(producer.call<number>('enqueueOne', n), `enqueueing job ${n}`, 30_000)
        const finishedAt = await withTimeout(finished, `job ${n}'s round trip`, 30_000)
        if (n >= LATENCY_WARMUP) samples.push(finishedAt - startedAt)
        await sleep(5 + Math.random() * 5)
      }
      await producer.call('closeProducer')
    })
    // The idle window: a second after the last job, the producer gone.
    await sleep(1_000)
    const pgBefore = readPostgres(db.name)
    const idle = await withTimeout(worker.call<IdleReport>('idleCpu', IDLE_MS), 'the idle window', IDLE_MS + 30_000)
    const pgAfter = readPostgres(db.name)
    if (idle.runs > 0) throw new Error(`${idle.runs} job(s) ran while the worker should have been idle`)
    const stats = await worker.call<RunStats & { failed: number }>('stopWorker')
    checkRuns(stats, total)
    await expectPending(db, 0, 'after the latency run')
    const pg = pgBefore !== null && pgAfter !== null ? postgresCpu(pgBefore, pgAfter, idle.wallMs) : null
    if (pg === null) log(`  (could not read PostgreSQL's processes in /proc: its CPU is not reported)`)
    return {
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      samples: samples.length,
      idleCpu: (idle.cpuMs / idle.wallMs) * 100,
      pgOwnCpu: pg?.own ?? null,
      pgAllCpu: pg?.all ?? null,
    }
  })
}

function readPostgres(database: string): ReturnType<typeof postgresProcesses> | null {
  try {
    const found = postgresProcesses(database)
    return found.size > 0 ? found : null
  } catch {
    return null
  }
}

// ---------------------------------------------------------------------------------------------
// Report

type Metric = 'enqueue' | 'enqueueCpu' | 'drain1' | 'drain1Cpu' | 'drain4' | 'drain4Cpu' | 'p50' | 'p99' | 'idleCpu' | 'pgOwnCpu' | 'pgAllCpu'
type Unit = 'jobs/s' | 'µs/job' | 'ms' | '%'
type Step = 'enqueue' | 'drain c1' | 'drain c4' | 'latency'

interface MetricSpec {
  readonly key: Metric
  readonly label: string
  readonly unit: Unit
  readonly better: 'higher' | 'lower'
  readonly step: Step
}

const METRICS: readonly MetricSpec[] = [
  { key: 'enqueue', label: 'enqueue (awaited one by one)', unit: 'jobs/s', better: 'higher', step: 'enqueue' },
  { key: 'enqueueCpu', label: 'enqueue: producer CPU per job', unit: 'µs/job', better: 'lower', step: 'enqueue' },
  { key: 'drain1', label: 'drain, concurrency 1', unit: 'jobs/s', better: 'higher', step: 'drain c1' },
  { key: 'drain1Cpu', label: 'drain c1: worker CPU per job', unit: 'µs/job', better: 'lower', step: 'drain c1' },
  { key: 'drain4', label: 'drain, concurrency 4', unit: 'jobs/s', better: 'higher', step: 'drain c4' },
  { key: 'drain4Cpu', label: 'drain c4: worker CPU per job', unit: 'µs/job', better: 'lower', step: 'drain c4' },
  { key: 'p50', label: 'latency p50 (idle worker)', unit: 'ms', better: 'lower', step: 'latency' },
  { key: 'p99', label: 'latency p99 (idle worker)', unit: 'ms', better: 'lower', step: 'latency' },
  { key: 'idleCpu', label: 'idle worker CPU (% of a core)', unit: '%', better: 'lower', step: 'latency' },
  { key: 'pgOwnCpu', label: 'idle: PostgreSQL backends CPU', unit: '%', better: 'lower', step: 'latency' },
  { key: 'pgAllCpu', label: 'idle: all postgres processes CPU', unit: '%', better: 'lower', step: 'latency' },
]

type Figures = Record<ContenderId, Partial<Record<Metric, number>>>

interface StepError {
  contender: ContenderId
  step: Step
  message: string
}

interface Row {
  metric: Metric
  label: string
  unit: Unit
  values: Partial<Record<ContenderId, number | 'error'>>
  bestPeer: { id: ContenderId; value: number } | null
  /** Herald ÷ best peer. */
  ratio: number | null
}

interface Target {
  target: string
  herald: number | null
  reference: number | null
  referenceLabel: string
  unit: Unit
  met: boolean | null
}

function fmt(value: number, unit: Unit): string {
  if (unit === 'jobs/s') return `${Math.round(value).toLocaleString('en-US')}/s`
  if (unit === 'µs/job') return `${Math.round(value).toLocaleString('en-US')} µs`
  if (unit === 'ms') return `${value.toFixed(2)} ms`
  return `${value.toFixed(2)}%`
}

function buildRows(selected: readonly ContenderSpec[], figures: Figures, errors: readonly StepError[]): Row[] {
  return METRICS.map((m) => {
    const values: Row['values'] = {}
    for (const c of selected) {
      const value = figures[c.id][m.key]
      if (value !== undefined) values[c.id] = value
      else if (errors.some((e) => e.contender === c.id && e.step === m.step)) values[c.id] = 'error'
    }
    let bestPeer: Row['bestPeer'] = null
    for (const c of selected) {
      const value = values[c.id]
      if (c.id === 'herald' || typeof value !== 'number') continue
      if (bestPeer === null || (m.better === 'higher' ? value > bestPeer.value : value < bestPeer.value)) bestPeer = { id: c.id, value }
    }
    const herald = values.herald
    const ratio = typeof herald === 'number' && bestPeer !== null && bestPeer.value !== 0 ? herald / bestPeer.value : null
    return { metric: m.key, label: m.label, unit: m.unit, values, bestPeer, ratio }
  })
}

function buildTargets(figures: Figures, rows: readonly Row[]): Target[] {
  const herald = figures.herald
  const best = (metric: Metric) => rows.find((r) => r.metric === metric)?.bestPeer ?? null
  const label = (id: ContenderId | undefined) => CONTENDERS.find((c) => c.id === id)?.label ?? ''
  const versusBest = (target: string, metric: Metric): Target => {
    const peer = best(metric)
    const value = herald[metric] ?? null
    return {
      target,
      herald: value,
      reference: peer?.value ?? null,
      referenceLabel: peer === null ? 'best peer' : `best peer, ${label(peer.id)}`,
      unit: 'jobs/s',
      met: value === null || peer === null ? null : value >= peer.value,
    }
  }
  const graphile = figures.graphile
  const p50 = graphile.p50 ?? null
  const p99 = graphile.p99 === undefined ? null : graphile.p99 * 2
  return [
    versusBest('drain c1 >= 1.0x the best peer', 'drain1'),
    versusBest('drain c4 >= 1.0x the best peer', 'drain4'),
    {
      target: "latency p50 <= graphile's (defaults) p50",
      herald: herald.p50 ?? null,
      reference: p50,
      referenceLabel: 'graphile p50',
      unit: 'ms',
      met: herald.p50 === undefined || p50 === null ? null : herald.p50 <= p50,
    },
    {
      target: "latency p99 <= 2x graphile's (defaults) p99",
      herald: herald.p99 ?? null,
      reference: p99,
      referenceLabel: '2 x graphile p99',
      unit: 'ms',
      met: herald.p99 === undefined || p99 === null ? null : herald.p99 <= p99,
    },
    versusBest('enqueue >= 1.0x the best peer', 'enqueue'),
    {
      target: 'Herald idle worker CPU < 1% of a core',
      herald: herald.idleCpu ?? null,
      reference: 1,
      referenceLabel: 'limit',
      unit: '%',
      met: herald.idleCpu === undefined ? null : herald.idleCpu < 1,
    },
  ]
}

function table(header: readonly string[], cells: readonly (readonly string[])[], leftColumns: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: readonly string[]) => c.map((v, i) => (i < leftColumns || i === c.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)]
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const out = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line)
  const progress = (line: string) => process.stderr.write(`${line}\n`)
  const started = performance.now()

  const only = new Set((process.env.BENCH_PG_ONLY ?? CONTENDERS.map((c) => c.id).join(',')).split(',').map((s) => s.trim()).filter(Boolean))
  const unknown = [...only].filter((id) => !CONTENDERS.some((c) => c.id === id))
  if (unknown.length > 0) throw new Error(`BENCH_PG_ONLY: unknown contender(s) ${unknown.join(', ')} (known: ${CONTENDERS.map((c) => c.id).join(', ')})`)
  const selected = CONTENDERS.filter((c) => only.has(c.id))

  out(`node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start`)
  out(`PostgreSQL ${PG.user}@${PG.host}:${PG.port}; a database per contender (herald_pgq_${process.pid}_<name>)`)
  out(
    `enqueue and drain: ${JOBS.toLocaleString('en-US')} jobs; latency: ${LATENCY_JOBS} jobs (pg-boss: ${BOSS_LATENCY_JOBS}, polling every 2 s) ` +
      `after ${LATENCY_WARMUP} warm-up jobs, then ${IDLE_MS / 1000} s idle; each step in fresh processes\n`,
  )

  const databases = selected.map((spec) => new ContenderDatabase(spec, `herald_pgq_${process.pid}_${spec.id.replace('-', '_')}`))
  const created: ContenderDatabase[] = []
  const figures = Object.fromEntries(CONTENDERS.map((c) => [c.id, {}])) as Figures
  const errors: StepError[] = []
  const details: Record<string, unknown> = {}
  let notifyCost: { notify: number; plain: number; costPercent: number } | null = null

  let interrupted = false
  let cleaning: Promise<void> | null = null
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.allSettled(databases.map((db) => db.close()))
      if (created.length === 0) return
      try {
        await withAdmin(async (admin) => {
          for (const db of created) await admin.query(`drop database if exists ${quoteIdent(db.name)} with (force)`)
        })
      } catch (error) {
        progress(`could not drop the databases ${created.map((db) => db.name).join(', ')}: ${firstLine(error)}`)
      }
    })())
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true
    progress(`\n${signal}: dropping the databases`)
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const record = (db: ContenderDatabase, step: Step, error: unknown) => {
    // Steps cut short by the interrupt (their database is being dropped) are not news.
    if (interrupted) return
    errors.push({ contender: db.spec.id, step, message: firstLine(error) })
    progress(`  ${db.spec.label.padEnd(16)} ${step}: ERROR ${firstLine(error)}`)
  }

  try {
    await withAdmin(async (admin) => {
      for (const db of databases) {
        await admin.query(`create database ${quoteIdent(db.name)}`)
        created.push(db)
      }
    })
    const ready: ContenderDatabase[] = []
    for (const db of databases) {
      try {
        await withChild(db, 'setup', (c) => withTimeout(c.call('setup'), `${db.spec.label} setup`, STEP_TIMEOUT_MS))
        ready.push(db)
      } catch (error) {
        for (const step of ['enqueue', 'drain c1', 'drain c4', 'latency'] as const) record(db, step, error)
      }
    }

    progress('enqueue:')
    for (const db of ready) {
      try {
        const r = await enqueueStep(db)
        figures[db.spec.id].enqueue = r.jobsPerSec
        figures[db.spec.id].enqueueCpu = r.cpuUsPerJob
        progress(`  ${db.spec.label.padEnd(16)} ${fmt(r.jobsPerSec, 'jobs/s')} (${fmt(r.cpuUsPerJob, 'µs/job')} CPU per job)`)
      } catch (error) {
        record(db, 'enqueue', error)
      }
    }
    for (const concurrency of [1, 4] as const) {
      const step = concurrency === 1 ? 'drain c1' : 'drain c4'
      progress(`${step}:`)
      for (const db of ready) {
        try {
          const r = await drainStep(db, concurrency)
          figures[db.spec.id][concurrency === 1 ? 'drain1' : 'drain4'] = r.jobsPerSec
          figures[db.spec.id][concurrency === 1 ? 'drain1Cpu' : 'drain4Cpu'] = r.cpuUsPerJob
          progress(`  ${db.spec.label.padEnd(16)} ${fmt(r.jobsPerSec, 'jobs/s')} (${fmt(r.cpuUsPerJob, 'µs/job')} worker CPU per job)`)
        } catch (error) {
          record(db, step, error)
        }
      }
    }
    progress('latency and idle:')
    for (const db of ready) {
      try {
        const r = await latencyStep(db, progress)
        Object.assign(figures[db.spec.id], {
          p50: r.p50,
          p99: r.p99,
          idleCpu: r.idleCpu,
          ...(r.pgOwnCpu === null ? {} : { pgOwnCpu: r.pgOwnCpu }),
          ...(r.pgAllCpu === null ? {} : { pgAllCpu: r.pgAllCpu }),
        })
        details[`${db.spec.id} latency samples`] = r.samples
        const pgCpu = r.pgOwnCpu === null ? '' : `, PostgreSQL ${fmt(r.pgOwnCpu, '%')} (its backends) / ${fmt(r.pgAllCpu ?? 0, '%')} (all)`
        progress(
          `  ${db.spec.label.padEnd(16)} p50 ${fmt(r.p50, 'ms')}, p99 ${fmt(r.p99, 'ms')} (${r.samples} jobs); idle worker ${fmt(r.idleCpu, '%')} of a core${pgCpu}`,
        )
      } catch (error) {
        record(db, 'latency', error)
      }
    }
    const herald = ready.find((db) => db.spec.id === 'herald')
    if (herald !== undefined) {
      progress('NOTIFY cost per push:')
      try {
        notifyCost = await notifyCostStep(herald)
        details.notifyCost = notifyCost
        progress(`  ${fmt(notifyCost.notify, 'jobs/s')} with NOTIFY, ${fmt(notifyCost.plain, 'jobs/s')} without: ${notifyCost.costPercent.toFixed(1)}% more per push`)
      } catch (error) {
        progress(`  ERROR ${firstLine(error)}`)
        errors.push({ contender: 'herald', step: 'enqueue', message: `NOTIFY cost: ${firstLine(error)}` })
      }
    }
  } finally {
    await cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }

  const rows = buildRows(selected, figures, errors)
  const targets = buildTargets(figures, rows)
  if (notifyCost !== null) {
    targets.push({
      target: 'NOTIFY costs a push <= 10%',
      herald: notifyCost.costPercent,
      reference: 10,
      referenceLabel: `limit; ${fmt(notifyCost.notify, 'jobs/s')} with, ${fmt(notifyCost.plain, 'jobs/s')} without`,
      unit: '%',
      met: notifyCost.costPercent <= 10,
    })
  }
  const label = (id: ContenderId) => CONTENDERS.find((c) => c.id === id)!.label
  const header = ['scenario', ...selected.map((c) => c.label), 'best peer', 'Herald / best']
  const cells = rows.map((r) => [
    r.label,
    ...selected.map((c) => {
      const v = r.values[c.id]
      return v === undefined ? '-' : v === 'error' ? 'ERROR' : fmt(v, r.unit)
    }),
    r.bestPeer === null ? '-' : `${fmt(r.bestPeer.value, r.unit)} (${label(r.bestPeer.id)})`,
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
  ])
  out('')
  for (const line of table(header, cells, 1)) out(line)
  out('\nHerald / best: throughput, higher is better; latency and CPU, lower is better')
  out(
    `pg-boss: batchSize 10 / 100, defaults otherwise (polling every 2 s, no LISTEN/NOTIFY) plus burstWhenBatchFull; ` +
      `graphile batched: localQueue.size ${GRAPHILE_BATCHING.localQueue.size}, completeJobBatchDelay / failJobBatchDelay ${GRAPHILE_BATCHING.completeJobBatchDelay}`,
  )
  out(
    `CPU: user + system of the measured process; PostgreSQL's from /proc, in ticks of 1/${ticksPerSecond()} s ` +
      `(${fmt(100 / ticksPerSecond() / (IDLE_MS / 1000), '%')} over the idle window); "all postgres processes" includes anyone else's use of the server`,
  )
  out('')
  const targetCells = targets.map((t) => [
    t.target,
    t.herald === null ? '-' : fmt(t.herald, t.unit),
    t.reference === null ? '-' : `${fmt(t.reference, t.unit)} (${t.referenceLabel})`,
    t.met === null ? 'n/a' : t.met ? 'MET' : 'NOT MET',
  ])
  for (const line of table(['target', 'Herald', 'reference', 'verdict'], targetCells, 1)) out(line)
  if (errors.length > 0) {
    out('\nerrors:')
    for (const e of errors) out(`  ${label(e.contender)}, ${e.step}: ${e.message}`)
  }
  const seconds = (performance.now() - started) / 1000
  out(`\n(total ${seconds.toFixed(1)} s; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end)`)

  if (json) {
    console.log(
      JSON.stringify(
        {
          node: process.version,
          cpus: cpus().length,
          jobs: JOBS,
          latencyJobs: LATENCY_JOBS,
          bossLatencyJobs: BOSS_LATENCY_JOBS,
          latencyWarmup: LATENCY_WARMUP,
          idleMs: IDLE_MS,
          contenders: selected.map((c) => ({ id: c.id, label: c.label })),
          graphileBatching: GRAPHILE_BATCHING,
          figures: Object.fromEntries(selected.map((c) => [c.id, figures[c.id]])),
          rows,
          targets,
          errors,
          details,
          seconds,
        },
        null,
        2,
      ),
    )
  }
  process.exitCode = errors.length > 0 ? 1 : 0
}

const childAt = process.argv.indexOf('--child')
if (childAt >= 0) child(JSON.parse(process.argv[childAt + 1]!) as ChildSpec)
else {
  try {
    await main()
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 1
  }
  // Everything is closed by now; if a handle still held the process up, say so and exit anyway.
  setTimeout(() => {
    process.stderr.write('(something still held the process up after the run: exiting)\n')
    process.exit()
  }, 5_000).unref()
}
