import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { Migrator, createApplication, type Application, type ConsumeOptions, type Knex, type QueueDriver } from 'herald'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

/**
 * The wake-up of the database queue: on PostgreSQL a push NOTIFYs, and an idle worker in
 * another process LISTENs; within one process a push wakes the worker on every dialect, after
 * the commit when it was made inside DB.transaction. Every idle worker here sleeps 60 s
 * between polls, longer than any test may take: a job done in time was a wake-up.
 */

const IDLE_SLEEP = 60

function makeApp(database: FreshDatabase): Application {
  return createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: database.connection } }
      config.queue = {
        default: 'database',
        connections: { database: { driver: 'database', table: 'jobs', queue: 'default' } },
        failed: { table: 'failed_jobs' },
      }
    },
  })
}

/** Resolves once `check` returns something other than undefined, looking again every few ms. */
async function until<T>(check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

interface Worker {
  readonly taken: Promise<string[]>
  readonly warnings: string[]
  readonly stop: AbortController
}

/** A worker in this process on the default queue, idle for IDLE_SLEEP seconds between polls. */
function work(app: Application, options: Partial<ConsumeOptions> = {}): Worker {
  const stop = new AbortController()
  const warnings: string[] = []
  const ids: string[] = []
  const taken = app
    .make('queue')
    .connection('database')
    .then((driver) =>
      driver.consume({
        queues: ['default'],
        concurrency: 1,
        sleep: IDLE_SLEEP,
        stopWhenEmpty: false,
        signal: stop.signal,
        warn: (message) => warnings.push(message),
        process: async (job) => {
          ids.push(job.id)
          return { kind: 'done' }
        },
        ...options,
      }),
    )
    .then(() => ids)
  onTestFinished(async () => {
    stop.abort()
    await taken.catch(() => {})
  })
  return { taken, warnings, stop }
}

describe('the database queue wakes a worker in another process on PostgreSQL (LISTEN/NOTIFY)', () => {
  let database: FreshDatabase
  let app: Application
  let knex: Knex
  let driver: QueueDriver

  beforeAll(async () => {
    database = await freshDatabase('pgsql')
    app = makeApp(database)
    await app.boot()
    knex = await app.make('db').connection()
    await new Migrator(knex, `${projectRoot}/database/migrations`).latest()
    driver = await app.make('queue').connection('database')
  })

  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  /** The backend pids of this database's sessions that LISTEN (pg_stat_activity shows their last statement). */
  async function listeners(): Promise<number[]> {
    const { rows } = (await knex.raw(`select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'`)) as {
      rows: Array<{ pid: number }>
    }
    return rows.map((row) => row.pid)
  }

  it('a push from this process wakes an idle worker process at once, each time', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/queue-consumer.ts'], {
      cwd: projectRoot,
      env: { ...process.env, HERALD_TEST_DB: JSON.stringify(database.connection), HERALD_TEST_UNTIL: '3', HERALD_TEST_SLEEP: String(IDLE_SLEEP), HERALD_TEST_CONCURRENCY: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await until(() => (stdout.startsWith('ready\n') ? true : undefined))
    child.stdin.end('go\n')
    await until(async () => ((await listeners()).length > 0 ? true : undefined))

    const pushed: string[] = []
    for (let round = 0; round < 3; round++) {
      const id = await driver.push(JSON.stringify({ round }), { queue: 'default', delay: 0, priority: 0 })
      pushed.push(id)
      // Settled (deleted) by the worker, which then goes back to its 60 s sleep.
      await until(async () => ((await knex('jobs').where('id', id).first()) === undefined ? true : undefined))
    }
    expect(await exited).toBe(0)
    expect(stderr).toBe('')
    expect(JSON.parse(stdout.split('\n')[1]!)).toEqual(pushed)
  })

  it('a push inside a transaction wakes the worker when it commits, and a rolled back one never', async () => {
    const worker = work(app)
    await until(async () => ((await listeners()).length > 0 ? true : undefined))
    await expect(
      app.make('db').transaction(async () => {
        await driver.push('{"rolled":"back"}', { queue: 'default', delay: 0, priority: 0 })
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    const id = await app.make('db').transaction(() => driver.push('{"committed":true}', { queue: 'default', delay: 0, priority: 0 }))
    await until(async () => ((await knex('jobs').count<Array<{ count: string }>>({ count: '*' }))[0]!.count === '0' ? true : undefined))
    worker.stop.abort()
    expect(await worker.taken).toEqual([id])
  })

  it('keeps working when its LISTEN connection is killed, says the outage once, and listens again', async () => {
    const worker = work(app)
    const [first] = await until(async () => {
      const pids = await listeners()
      return pids.length === 1 ? pids : undefined
    })
    await knex.raw('select pg_terminate_backend(?)', [first!])
    await until(() => worker.warnings.find((line) => /^Database "main" at 127\.0\.0\.1:5432: connection lost \(.+\): reconnecting/.test(line)))
    const again = await until(async () => {
      const pids = (await listeners()).filter((pid) => pid !== first)
      return pids.length === 1 ? pids : undefined
    })
    expect(again[0]).not.toBe(first)
    // Listening again: a push wakes the 60 s sleeper.
    const id = await driver.push('{"after":"reconnect"}', { queue: 'default', delay: 0, priority: 0 })
    await until(async () => ((await knex('jobs').where('id', id).first()) === undefined ? true : undefined))
    worker.stop.abort()
    expect(await worker.taken).toEqual([id])
    expect(worker.warnings).toHaveLength(1)
  })
})

describe.each<Dialect>(['sqlite', 'mysql', 'pgsql'])('the database queue on %s wakes a worker of the same process', (dialect) => {
  let database: FreshDatabase
  let app: Application
  let knex: Knex
  let driver: QueueDriver

  beforeAll(async () => {
    database = await freshDatabase(dialect)
    app = makeApp(database)
    await app.boot()
    knex = await app.make('db').connection()
    await new Migrator(knex, `${projectRoot}/database/migrations`).latest()
    driver = await app.make('queue').connection('database')
  })

  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('at a push, and after the commit for a push inside DB.transaction', async () => {
    const worker = work(app)
    const plain = await driver.push('{"plain":true}', { queue: 'default', delay: 0, priority: 0 })
    await until(async () => ((await knex('jobs').where('id', plain).first()) === undefined ? true : undefined))
    const held = await app.make('db').transaction(() => driver.push('{"held":true}', { queue: 'default', delay: 0, priority: 0 }))
    await until(async () => ((await knex('jobs').where('id', held).first()) === undefined ? true : undefined))
    worker.stop.abort()
    expect(await worker.taken).toEqual([plain, held])
  })
})
