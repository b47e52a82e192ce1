/**
 * Database-queue workers that heal (issue 12): a worker whose database connections are killed
 * keeps going and settles the job in hand once it is back, without running it again; a worker
 * that cannot reach its database gives up after maxDisconnected with one line naming it, and
 * stops at once when told to; leases keep a long live job from a second worker, and let a dead
 * worker's job be reclaimed (by stop-when-empty too, which says so).
 */
import knexFactory, { type Knex } from 'knex'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import {
  Dispatchable,
  Listener,
  Migrator,
  ShouldQueue,
  createApplication,
  type Application,
  type ConsumeOptions,
  type QueueOptions,
} from 'herald'
import { ServiceUnreachableError } from '../../src/foundation/service-errors.ts'
import { Worker } from '../../src/queue/worker.ts'
import type { DatabaseConnectionConfig } from '../../src/foundation/config.ts'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

/** An application on `connection` whose default queue is the database driver with `lease` seconds. */
function makeApp(connection: DatabaseConnectionConfig, lease: number, prefetch?: number): Application {
  return createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: connection } }
      config.queue = {
        default: 'database',
        connections: { database: { driver: 'database', table: 'jobs', queue: 'default', lease, ...(prefetch !== undefined && { prefetch }) } },
        failed: { table: 'failed_jobs' },
      }
    },
  })
}

function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => (resolve = done))
  return { promise, resolve }
}

/** Consumes `app`'s default database queue through its real job runner until `signal` (or empty). */
async function consume(app: Application, options: Partial<ConsumeOptions> = {}): Promise<void> {
  const runner = app.make('queue').runner('database')
  const driver = await app.make('queue').connection('database')
  await driver.consume({
    queues: ['default'],
    concurrency: 1,
    sleep: 0.05,
    stopWhenEmpty: true,
    signal: new AbortController().signal,
    process: (job) => runner.process(job),
    reconnect: { maxDisconnected: 60, baseDelay: 20, maxDelay: 200 },
    ...options,
  })
}

/** An admin connection of its own to the test database, to lock tables and kill the worker's connections. */
function adminOf(connection: DatabaseConnectionConfig): Knex {
  if (connection.driver === 'sqlite') throw new Error('no admin connection for SQLite')
  const { host, port, user, password, database } = connection
  return knexFactory({ client: connection.driver === 'pgsql' ? 'pg' : 'mysql2', connection: { host, port, user, password, database }, pool: { min: 1, max: 1 } })
}

/** Per server: hold the jobs table, see a worker statement wait for it, and kill every other connection to the database. */
const servers = {
  pgsql: {
    lock: (trx: Knex.Transaction) => trx.raw('lock table jobs in access exclusive mode'),
    waiting: async (trx: Knex.Transaction) =>
      Number(
        ((await trx.raw(`select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock'`)) as {
          rows: Array<{ n: string }>
        }).rows[0]!.n,
      ),
    killOthers: (trx: Knex.Transaction) =>
      trx.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()'),
    // The commit releases the lock.
    unlock: async (_trx: Knex.Transaction) => {},
  },
  mysql: {
    lock: (trx: Knex.Transaction) => trx.raw('lock tables jobs write'),
    waiting: async (trx: Knex.Transaction) =>
      Number(
        ((await trx.raw(`select count(*) as n from information_schema.processlist where db = database() and id <> connection_id() and state like '%lock%'`)) as [
          Array<{ n: number }>,
        ])[0][0]!.n,
      ),
    killOthers: async (trx: Knex.Transaction) => {
      const [rows] = (await trx.raw('select id from information_schema.processlist where db = database() and id <> connection_id()')) as [Array<{ id: number }>]
      for (const { id } of rows) await trx.raw(`kill ${Number(id)}`).catch(() => {})
    },
    // A commit does not release LOCK TABLES.
    unlock: (trx: Knex.Transaction) => trx.raw('unlock tables'),
  },
} as const

describe.each<'pgsql' | 'mysql'>(['pgsql', 'mysql'])('a worker whose database connections are killed (%s)', (dialect) => {
  let database: FreshDatabase
  let app: Application

  beforeAll(async () => {
    database = await freshDatabase(dialect)
    // A lease much longer than the outage: nothing here may be reclaimed.
    app = makeApp(database.connection, 30)
    await app.boot()
    await new Migrator(await app.make('db').connection(), `${projectRoot}/database/migrations`).latest()
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('warns once, reconnects, settles the job in hand without running it again, and keeps going', async () => {
    const runs = new Map<number, number>()
    const started = deferred()
    const gate = deferred()
    class Healing extends Dispatchable {
      constructor(readonly n: number) {
        super()
      }
    }
    class HealingListener extends ShouldQueue(Listener.for(Healing)) implements QueueOptions<Healing> {
      tries = 5
      async handle(event: Healing) {
        runs.set(event.n, (runs.get(event.n) ?? 0) + 1)
        if (event.n === 1) {
          started.resolve()
          await gate.promise
        }
      }
    }
    app.make('events').listen(Healing, HealingListener)
    await app.make('events').dispatch(new Healing(1))

    const warnings: string[] = []
    const stop = new AbortController()
    const consuming = consume(app, { stopWhenEmpty: false, signal: stop.signal, warn: (line) => warnings.push(line) })
    onTestFinished(() => stop.abort())
    await started.promise

    // Job 1 is in hand. Its outcome's write will wait on the lock; then every connection of the
    // worker is killed, that write among them.
    const admin = adminOf(database.connection)
    onTestFinished(() => admin.destroy())
    const trx = await admin.transaction()
    try {
      await servers[dialect].lock(trx)
      gate.resolve()
      await expect.poll(() => servers[dialect].waiting(trx), { timeout: 30_000, interval: 25 }).toBeGreaterThan(0)
      await servers[dialect].killOthers(trx)
      await expect.poll(() => warnings.length, { timeout: 30_000, interval: 25 }).toBeGreaterThan(0)
    } finally {
      await servers[dialect].unlock(trx)
      await trx.commit()
    }

    // Work continues on new connections.
    await app.make('events').dispatch(new Healing(2))
    await app.make('events').dispatch(new Healing(3))
    const knex = await app.make('db').connection()
    await expect.poll(async () => Number((await knex('jobs').count({ n: '*' }))[0]!.n), { timeout: 30_000, interval: 25 }).toBe(0)
    await expect.poll(() => runs.size, { timeout: 30_000, interval: 25 }).toBe(3)
    stop.abort()
    await consuming

    expect([...runs.entries()].sort()).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ])
    // One outage (the LISTEN connection of PostgreSQL was killed with the others): one warning.
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^Database "main" at 127\.0\.0\.1:\d+: connection lost \(.+\): reconnecting, giving up after 60 s without one\.$/)
    expect(await (await app.make('queue').failedJobs()).all()).toEqual([])
  }, 120_000)
})

describe.each<'pgsql' | 'mysql'>(['pgsql', 'mysql'])('a worker whose connections are killed again and again while it claims (%s)', (dialect) => {
  let database: FreshDatabase
  let app: Application

  beforeAll(async () => {
    database = await freshDatabase(dialect)
    // prefetch 1: a claim (on MySQL a transaction of two statements) for every job or two. A
    // short lease: a claim that committed as its connection died is the worker's without its
    // knowing, until the lease lapses.
    app = makeApp(database.connection, 2, 1)
    await app.boot()
    await new Migrator(await app.make('db').connection(), `${projectRoot}/database/migrations`).latest()
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('loses no job, leaves no unhandled error, and is still working afterwards', async () => {
    const knex = await app.make('db').connection()
    const now = Date.now()
    const rows = Array.from({ length: 300 }, (_, n) => ({ queue: 'default', payload: `{"n":${n}}`, attempts: 0, available_at: now, created_at: now }))
    for (let i = 0; i < rows.length; i += 100) await knex('jobs').insert(rows.slice(i, i + 100))
    const done = new Set<string>()
    const stop = new AbortController()
    const warnings: string[] = []
    const consuming = consume(app, {
      stopWhenEmpty: false,
      concurrency: 2,
      signal: stop.signal,
      warn: (line) => warnings.push(line),
      process: async (job) => {
        done.add(JSON.parse(job.payload).n as string)
        return { kind: 'done' }
      },
    })
    onTestFinished(() => stop.abort())
    const admin = adminOf(database.connection)
    onTestFinished(() => admin.destroy())
    let kills = 0
    // Kill the worker's connections over and over, each time once it has made progress again.
    while (kills < 30 && done.size < rows.length) {
      const before = done.size
      await admin.transaction((trx) => servers[dialect].killOthers(trx))
      kills++
      await expect.poll(() => done.size > before, { timeout: 30_000, interval: 5 }).toBe(true)
    }
    expect(kills).toBeGreaterThan(1)
    // Still working: a new job after the storm is run too, and the table drains. (Through the
    // admin connection: the app's own pooled connections may be among the killed.)
    await admin('jobs').insert({ queue: 'default', payload: '{"n":"after"}', attempts: 0, available_at: Date.now(), created_at: Date.now() })
    await expect.poll(async () => Number((await admin('jobs').count({ n: '*' }))[0]!.n), { timeout: 30_000, interval: 25 }).toBe(0)
    expect(done.has('after')).toBe(true)
    stop.abort()
    await consuming
    expect(done.size).toBe(rows.length + 1)
    expect(warnings.length).toBeGreaterThan(0)
  }, 120_000)
})

describe('a worker whose database is unreachable', () => {
  /** PostgreSQL at a port nobody listens on. */
  const closed: DatabaseConnectionConfig = { driver: 'pgsql', host: '127.0.0.1', port: 1, user: 'postgres', password: 'secret', database: 'test' }
  let app: Application
  beforeAll(async () => {
    app = makeApp(closed, 10)
    await app.boot()
  })
  afterAll(() => app?.shutdown())

  it('gives up after maxDisconnected with one error naming the database and its address, no password', async () => {
    const warnings: string[] = []
    const worker = new Worker(app.make('queue'), {
      connection: 'database',
      queues: ['default'],
      concurrency: 3,
      defaults: { tries: 1, backoff: 0, timeout: 60 },
      sleep: 1,
      stopWhenEmpty: false,
      maxJobs: 0,
      maxTime: 0,
      memory: 0,
      reconnect: { maxDisconnected: 1, baseDelay: 20, maxDelay: 200 },
      onWarning: (line) => warnings.push(line),
    })
    const started = Date.now()
    const error = await worker.run().then(
      () => null,
      (rejection: unknown) => rejection,
    )
    expect(error).toBeInstanceOf(ServiceUnreachableError)
    expect((error as Error).message).toMatch(/^Database "main" at 127\.0\.0\.1:1 is unreachable \(connect ECONNREFUSED 127\.0\.0\.1:1\)$/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000)
    // Three loops, one outage: one warning.
    expect(warnings).toEqual(['Database "main" at 127.0.0.1:1: connection lost (connect ECONNREFUSED 127.0.0.1:1): reconnecting, giving up after 1 s without one.'])
    expect(warnings.join('') + String(error)).not.toContain('secret')
  })

  it('stops at once when stopped while waiting to reconnect', async () => {
    const warned = deferred()
    const stop = new AbortController()
    const consuming = consume(app, {
      stopWhenEmpty: false,
      signal: stop.signal,
      reconnect: { maxDisconnected: 600, baseDelay: 5_000, maxDelay: 60_000 },
      warn: () => warned.resolve(),
    })
    await warned.promise
    const stoppedAt = Date.now()
    stop.abort()
    await consuming
    // The next try was 2.5 s or more away.
    expect(Date.now() - stoppedAt).toBeLessThan(2_000)
  })

  it('rejects a dispatch with an error naming the database', async () => {
    class Unreachable extends Dispatchable {}
    class UnreachableListener extends ShouldQueue(Listener.for(Unreachable)) {
      handle() {}
    }
    app.make('events').listen(Unreachable, UnreachableListener)
    // The dispatcher reports its listeners' failures as one AggregateError (DESIGN.md); the
    // queued listener's is the database's.
    const error = await app
      .make('events')
      .dispatch(new Unreachable())
      .then(
        () => null,
        (rejection: unknown) => rejection,
      )
    expect(error).toBeInstanceOf(AggregateError)
    const [cause] = (error as AggregateError).errors
    expect(cause).toBeInstanceOf(ServiceUnreachableError)
    expect((cause as Error).message).toBe('Database "main" at 127.0.0.1:1 is unreachable (connect ECONNREFUSED 127.0.0.1:1)')
    expect((error as Error).message).toContain('Database "main" at 127.0.0.1:1 is unreachable (connect ECONNREFUSED 127.0.0.1:1)')
    // Straight to the driver, as Queue.push does, it is that error itself.
    const driver = await app.make('queue').connection('database')
    await expect(driver.push('{}', { queue: 'default', delay: 0, priority: 0 })).rejects.toThrow(
      /^Database "main" at 127\.0\.0\.1:1 is unreachable \(connect ECONNREFUSED 127\.0\.0\.1:1\)$/,
    )
  })
})

describe.each<Dialect>(['sqlite', 'pgsql', 'mysql'])('leases on %s', (dialect) => {
  let database: FreshDatabase
  let app: Application
  let knex: Knex
  const LEASE = 2

  beforeAll(async () => {
    database = await freshDatabase(dialect)
    app = makeApp(database.connection, LEASE)
    await app.boot()
    knex = await app.make('db').connection()
    await new Migrator(knex, `${projectRoot}/database/migrations`).latest()
  })
  afterEach(async () => {
    await knex('jobs').delete()
    await knex('failed_jobs').delete()
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  /** A row as a worker that died would leave it: reserved, attempted once, its lease ending at `leaseExpiresAt`. */
  async function orphan(event: Dispatchable, leaseExpiresAt: number): Promise<string> {
    const [id] = await app.make('events').dispatch(event)
    await knex('jobs')
      .where('id', id as string)
      .update({ reserved_at: leaseExpiresAt - LEASE * 1000, lease_expires_at: leaseExpiresAt, attempts: 1 })
    return id as string
  }

  it('never hands a live job running for more than three lease periods to a second worker', async () => {
    const other = makeApp(database.connection, LEASE)
    await other.boot()
    onTestFinished(() => other.shutdown())
    const runs: Array<{ n: number; attempt: number }> = []
    const longStarted = deferred()
    class Long extends Dispatchable {
      constructor(readonly n: number) {
        super()
      }
    }
    const listener = () =>
      class LongListener extends ShouldQueue(Listener.for(Long)) implements QueueOptions<Long> {
        tries = 3
        async handle(event: Long) {
          runs.push({ n: event.n, attempt: this.attempts() })
          if (event.n === 1) {
            longStarted.resolve()
            await new Promise((resolve) => setTimeout(resolve, LEASE * 1000 * 3.5))
          }
        }
      }
    app.make('events').listen(Long, listener())
    other.make('events').listen(Long, listener())
    await app.make('events').dispatch(new Long(1))

    const first = consume(app, { stopWhenEmpty: true })
    await longStarted.promise
    // A second worker keeps polling while the first one runs its long job.
    const stopOther = new AbortController()
    const second = consume(other, { stopWhenEmpty: false, signal: stopOther.signal })
    onTestFinished(() => stopOther.abort())
    await app.make('events').dispatch(new Long(2))
    await first
    stopOther.abort()
    await second

    expect(runs.filter((run) => run.n === 1)).toEqual([{ n: 1, attempt: 1 }])
    expect(runs.filter((run) => run.n === 2)).toEqual([{ n: 2, attempt: 1 }])
    expect(Number((await knex('jobs').count({ n: '*' }))[0]!.n)).toBe(0)
  }, 60_000)

  it('stop-when-empty waits for a dead worker’s lease, reclaims the job and says so', async () => {
    const seen: Array<[number, number]> = []
    class Orphaned extends Dispatchable {
      constructor(readonly n: number) {
        super()
      }
    }
    class OrphanedListener extends ShouldQueue(Listener.for(Orphaned)) implements QueueOptions<Orphaned> {
      tries = 3
      handle(event: Orphaned) {
        seen.push([event.n, this.attempts()])
      }
    }
    app.make('events').listen(Orphaned, OrphanedListener)
    const id = await orphan(new Orphaned(1), Date.now() + 1_500)
    const warnings: string[] = []
    await consume(app, { warn: (line) => warnings.push(line) })
    expect(seen).toEqual([[1, 2]])
    expect(warnings).toEqual([
      expect.stringMatching(/^1 job\(s\) reserved by another worker: waiting up to [12] s for their lease\.$/),
      `Reclaimed job ${id} (attempt 2): the worker holding it stopped renewing its lease.`,
    ])
    expect(Number((await knex('jobs').count({ n: '*' }))[0]!.n)).toBe(0)
  }, 30_000)

  it('two stop-when-empty workers do not wait for each other: a live worker’s renewed lease is left to it', async () => {
    const other = makeApp(database.connection, LEASE)
    await other.boot()
    onTestFinished(() => other.shutdown())
    const started = deferred()
    const gate = deferred()
    class Held extends Dispatchable {}
    class HeldListener extends ShouldQueue(Listener.for(Held)) {
      async handle() {
        started.resolve()
        await gate.promise
      }
    }
    app.make('events').listen(Held, HeldListener)
    await app.make('events').dispatch(new Held())
    const holding = consume(app)
    onTestFinished(() => gate.resolve())
    await started.promise
    const warnings: string[] = []
    // Resolves once it has seen the other worker renew its lease, while that job still runs.
    await consume(other, { warn: (line) => warnings.push(line) })
    expect(warnings).toEqual([expect.stringMatching(/^1 job\(s\) reserved by another worker: waiting up to [12] s for their lease\.$/)])
    expect(Number((await knex('jobs').count({ n: '*' }))[0]!.n)).toBe(1)
    gate.resolve()
    await holding
    expect(Number((await knex('jobs').count({ n: '*' }))[0]!.n)).toBe(0)
  }, 30_000)

  it('fails a job whose lease lapsed more often than its tries allow, with that reason', async () => {
    const seen: number[] = []
    class Doomed extends Dispatchable {}
    class DoomedListener extends ShouldQueue(Listener.for(Doomed)) implements QueueOptions<Doomed> {
      tries = 1
      handle() {
        seen.push(1)
      }
    }
    app.make('events').listen(Doomed, DoomedListener)
    await orphan(new Doomed(), Date.now() - 1)
    await consume(app)
    expect(seen).toEqual([])
    const failed = await (await app.make('queue').failedJobs()).all()
    expect(failed).toHaveLength(1)
    expect(failed[0]!.exception).toContain('DoomedListener has been attempted too many times (lease lapsed 1 time(s): the worker died or lost its connection).')
  })
})
