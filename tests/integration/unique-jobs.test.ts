/**
 * Unique jobs and WithoutOverlapping (issue 16) on every queue driver with a store of its own:
 * the database queue on SQLite, PostgreSQL and MariaDB (locks in cache_locks) and BullMQ
 * (locks in Redis). Real services; two dispatching processes race for one lock.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { Job, Migrator, Queue, ShouldBeUnique, WithoutOverlapping, bootApplication, type Application, type QueueDriver } from 'herald'
import type { QueueConfig } from '../../src/foundation/config.ts'
import { Worker } from '../../src/queue/worker.ts'
import { BadUniqueId, Blocked, BriefUnique, Exclusive, RefreshFeed, SharedKeyJob, UniqueReport, seen } from '../fixtures/unique-jobs.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

interface Case {
  readonly name: string
  readonly db: 'sqlite' | 'pgsql' | 'mysql'
  readonly queue: 'database' | 'bullmq'
}

const cases: Case[] = [
  { name: 'database on SQLite', db: 'sqlite', queue: 'database' },
  { name: 'database on PostgreSQL', db: 'pgsql', queue: 'database' },
  { name: 'database on MariaDB', db: 'mysql', queue: 'database' },
  { name: 'bullmq on Redis', db: 'sqlite', queue: 'bullmq' },
]

function queueConfig(driver: Case['queue'], prefix: string): QueueConfig {
  return {
    default: driver,
    connections: {
      database: { driver: 'database', table: 'jobs', queue: 'default', lease: 10 },
      bullmq: { driver: 'bullmq', url: 'redis://127.0.0.1:6379', queue: 'default', prefix, lockDuration: 6, stalledInterval: 4 },
      now: { driver: 'sync' },
    },
    failed: { table: 'failed_jobs' },
  }
}

/** Starts a dispatching process (tests/support/unique-dispatch-process.ts) and waits until it is ready. */
function dispatcherProcess(config: object) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/unique-dispatch-process.ts'], {
    cwd: projectRoot,
    env: { ...process.env, HERALD_TEST_CONFIG: JSON.stringify(config), HERALD_TEST_DISPATCHES: '20' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let ready!: () => void
  const isReady = new Promise<void>((resolve) => (ready = resolve))
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk
    if (stdout.startsWith('ready\n')) ready()
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  void exited.then(() => ready())
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, ready: isReady, exited, output: () => ({ stdout, stderr }) }
}

describe.each(cases.map((each) => [each.name, each] as const))('unique jobs and WithoutOverlapping: %s', (_name, driver) => {
  let database: FreshDatabase
  let app: Application
  let queue: QueueDriver
  let config: QueueConfig
  let redisPrefix: string
  const workers: Worker[] = []
  const debug: string[] = []

  function startWorker(concurrency = 1): Worker {
    const worker = new Worker(app.make('queue'), {
      connection: driver.queue,
      queues: ['default'],
      concurrency,
      defaults: { tries: 1, backoff: 0, timeout: 0 },
      sleep: 0.02,
      stopWhenEmpty: false,
      maxJobs: 0,
      maxTime: 0,
      memory: 0,
    })
    workers.push(worker)
    void worker.run()
    return worker
  }

  /** Runs the queue until it is empty, through the app's job runner. */
  async function work(): Promise<void> {
    const runner = app.make('queue').runner(driver.queue, { tries: 1, backoff: 0, timeout: 0 })
    await queue.consume({ queues: ['default'], concurrency: 1, sleep: 0.01, stopWhenEmpty: true, signal: new AbortController().signal, process: (job) => runner.process(job) })
  }

  async function lockOwner(key: string): Promise<string | null> {
    const place = await app.make('jobs.locks').forConnection(driver.queue)
    return place.store.owner(`${place.prefix}:${key}`)
  }

  async function failedNames(): Promise<string[]> {
    return (await (await app.make('queue').failedJobs()).all()).map((row) => `${(JSON.parse(row.payload) as { displayName: string }).displayName}: ${row.exception.split('\n')[0]}`)
  }

  beforeAll(async () => {
    database = await freshDatabase(driver.db)
    redisPrefix = `unique-${process.pid}-${Date.now()}`
    config = queueConfig(driver.queue, redisPrefix)
    app = await bootApplication({
      basePath: mkdtempSync(join(tmpdir(), 'herald-unique-')),
      envFile: false,
      loadConfig: false,
      env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'debug' },
      configure: (settings) => {
        settings.database = { default: 'main', connections: { main: database.connection } }
        settings.queue = config
      },
    })
    app.logger = { debug: (line) => debug.push(line), info: () => {}, warn: () => {}, error: () => {} }
    await new Migrator(await app.make('db').connection(), join(projectRoot, 'database', 'migrations')).latest()
    queue = await app.make('queue').connection(driver.queue)
    app.make('bus').serializable(UniqueReport, BriefUnique, RefreshFeed, Exclusive, Blocked, SharedKeyJob)
  })
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()))
    seen.gate.open()
    seen.reset()
    debug.length = 0
    await queue.clear('default')
    await (await app.make('queue').failedJobs()).flush()
    const knex = await app.make('db').connection()
    await knex('cache_locks').delete()
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('the lock store: one of 20 concurrent takers wins, only its owner releases it, forceRelease frees it, an expired lock is taken over', async () => {
    const { store, prefix } = await app.make('jobs.locks').forConnection(driver.queue)
    expect(prefix).toBe(driver.queue === 'bullmq' ? redisPrefix : 'herald')
    const key = `${prefix}:test:store`
    const won = await Promise.all(Array.from({ length: 20 }, (_, n) => store.acquire(key, `owner-${n}`, 0)))
    expect(won.filter(Boolean)).toHaveLength(1)
    const winner = `owner-${won.indexOf(true)}`
    expect(await store.owner(key)).toBe(winner)
    expect(await store.release(key, 'owner-none')).toBe(false)
    expect(await store.owner(key)).toBe(winner)
    expect(await store.release(key, winner)).toBe(true)
    expect(await store.owner(key)).toBeNull()

    expect(await store.acquire(key, 'a', 0)).toBe(true)
    await store.forceRelease(key)
    expect(await store.acquire(key, 'b', 0.2)).toBe(true)
    expect(await store.acquire(key, 'c', 0.2)).toBe(false)
    await vi.waitFor(async () => expect(await store.acquire(key, 'c', 0)).toBe(true), { timeout: 5_000, interval: 20 })
    // The expired holder's release does not free the new owner's lock.
    expect(await store.release(key, 'b')).toBe(false)
    expect(await store.owner(key)).toBe('c')
    await store.forceRelease(key)
  })

  it('two processes dispatching the same unique job 20 times each at once queue exactly one', async () => {
    const processes = [0, 1].map(() => dispatcherProcess({ database: database.connection, queue: config }))
    await Promise.all(processes.map((each) => each.ready))
    for (const each of processes) each.child.stdin.end('go\n')
    const codes = await Promise.all(processes.map((each) => each.exited))
    for (const each of processes) expect(each.output().stderr).toBe('')
    expect(codes).toEqual([0, 0])
    const ids = processes.flatMap((each) => JSON.parse(each.output().stdout.split('\n')[1]!) as string[])
    expect(ids).toHaveLength(40)
    // Both processes took part; one dispatch won, 39 were dropped ('').
    expect(ids.filter((id) => id !== '')).toHaveLength(1)
    expect(await queue.size('default')).toBe(1)
    expect(await lockOwner('unique:UniqueReport:1')).not.toBeNull()
    await work()
    expect(seen.runs).toEqual(['UniqueReport:1:ok'])
    expect(await lockOwner('unique:UniqueReport:1')).toBeNull()
  })

  it('drops a second dispatch while the first is pending, says so at debug level, and releases the lock once the job succeeds', async () => {
    expect(await UniqueReport.dispatch(2)).not.toBe('')
    expect(await UniqueReport.dispatch(2)).toBe('')
    expect(debug).toContainEqual(expect.stringMatching(/^UniqueReport was not queued: the same job is still pending \(unique lock ".*:unique:UniqueReport:2" is held\)\.$/))
    // Another uniqueId is another job.
    expect(await UniqueReport.dispatch(3)).not.toBe('')
    expect(await queue.size('default')).toBe(2)
    await work()
    expect(seen.runs.sort()).toEqual(['UniqueReport:2:ok', 'UniqueReport:3:ok'])
    expect(await UniqueReport.dispatch(2)).not.toBe('')
    expect(await queue.size('default')).toBe(1)
  })

  it('keeps the lock while the job runs, and releases it when the job fails for good', async () => {
    const worker = startWorker()
    await UniqueReport.dispatch(4, 'hold')
    await vi.waitFor(() => expect(seen.gate.arrived).toBe(1), { timeout: 10_000, interval: 10 })
    expect(await UniqueReport.dispatch(4)).toBe('')
    seen.gate.open()
    await worker.stop()
    expect(seen.runs).toEqual(['UniqueReport:4:hold'])

    await UniqueReport.dispatch(5, 'fail')
    await work()
    expect(await failedNames()).toEqual(['UniqueReport: Error: report 5 failed'])
    expect(await lockOwner('unique:UniqueReport:5')).toBeNull()
    expect(await UniqueReport.dispatch(5)).not.toBe('')
  })

  it('inside DB.transaction the lock goes with the job: rolled back with the database queue’s row, kept with a job already in Redis', async () => {
    const db = app.make('db')
    await expect(
      db.transaction(async () => {
        expect(await UniqueReport.dispatch(9)).not.toBe('')
        expect(await UniqueReport.dispatch(9)).toBe('')
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    if (driver.queue === 'database') {
      // The job row and its lock were written in the transaction: both are gone.
      expect(await queue.size('default')).toBe(0)
      expect(await UniqueReport.dispatch(9)).not.toBe('')
    } else {
      // Redis is not part of the transaction: the job is queued, so its lock holds.
      expect(await queue.size('default')).toBe(1)
      expect(await UniqueReport.dispatch(9)).toBe('')
    }
    expect(await queue.size('default')).toBe(1)
  })

  it('releases the lock after uniqueFor, with the first job still queued', async () => {
    expect(await BriefUnique.dispatch()).not.toBe('')
    expect(await BriefUnique.dispatch()).toBe('')
    // uniqueFor = 1: within a few seconds a dispatch gets through again.
    await vi.waitFor(async () => expect(await BriefUnique.dispatch()).not.toBe(''), { timeout: 5_000, interval: 100 })
    expect(await queue.size('default')).toBe(2)
    await work()
    expect(seen.runs).toEqual(['BriefUnique', 'BriefUnique'])
  })

  it('ShouldBeUniqueUntilProcessing: unique while queued, queued again while the first one runs', async () => {
    expect(await RefreshFeed.dispatch('news')).not.toBe('')
    expect(await RefreshFeed.dispatch('news')).toBe('')
    const worker = startWorker()
    await vi.waitFor(() => expect(seen.gate.arrived).toBe(1), { timeout: 10_000, interval: 10 })
    // The first one is running: its lock went when it started.
    expect(await RefreshFeed.dispatch('news')).not.toBe('')
    expect(await RefreshFeed.dispatch('news')).toBe('')
    seen.gate.open()
    await vi.waitFor(() => expect(seen.runs).toEqual(['RefreshFeed:news', 'RefreshFeed:news']), { timeout: 10_000, interval: 10 })
    await worker.stop()
  })

  it('WithoutOverlapping: two workers never run two jobs with the same key at once', async () => {
    for (let n = 0; n < 6; n++) await Exclusive.dispatch(n)
    startWorker(2)
    startWorker(2)
    await vi.waitFor(() => expect(seen.spans).toHaveLength(6), { timeout: 20_000, interval: 20 })
    expect(seen.spans.map((span) => span.n).sort()).toEqual([0, 1, 2, 3, 4, 5])
    const spans = [...seen.spans].sort((a, b) => a.start - b.start)
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end)
    // Four slots for six jobs: some found the key taken and were released before they ran.
    expect(spans.some((span) => span.attempt > 1)).toBe(true)
    await vi.waitFor(async () => expect(await lockOwner('overlap:Exclusive:shared-key')).toBeNull(), { timeout: 5_000, interval: 20 })
  })

  it('WithoutOverlapping: a job finding the key taken is released (an attempt) or, with dontRelease(), deleted', async () => {
    const place = await app.make('jobs.locks').forConnection(driver.queue)
    const key = `${place.prefix}:overlap:Blocked:held-elsewhere`
    expect(await place.store.acquire(key, 'someone-else', 30)).toBe(true)
    await Blocked.dispatch('drop')
    await work()
    expect(seen.runs).toEqual([])
    expect(await queue.size('default')).toBe(0)
    expect(await failedNames()).toEqual([])

    // tries = 2: released twice, then attempted too many times.
    await Blocked.dispatch('release')
    await work()
    expect(seen.runs).toEqual([])
    expect(await failedNames()).toEqual(['Blocked: JobFailedError: Blocked has been attempted too many times.'])

    expect(await place.store.release(key, 'not-the-owner')).toBe(false)
    expect(await place.store.release(key, 'someone-else')).toBe(true)
    await Blocked.dispatch('release')
    await work()
    expect(seen.runs).toEqual(['Blocked:release'])

    // shared(): the key is not the class's own.
    expect(await place.store.acquire(`${place.prefix}:overlap:nightly-import`, 'another-class', 30)).toBe(true)
    await SharedKeyJob.dispatch()
    await work()
    expect(seen.runs).toEqual(['Blocked:release'])
    await place.store.forceRelease(`${place.prefix}:overlap:nightly-import`)
    await SharedKeyJob.dispatch()
    await work()
    expect(seen.runs).toEqual(['Blocked:release', 'SharedKeyJob'])
  })
})

describe('unique jobs without a store of their own', () => {
  let database: FreshDatabase
  let app: Application

  beforeAll(async () => {
    database = await freshDatabase('sqlite')
    app = await bootApplication({
      basePath: mkdtempSync(join(tmpdir(), 'herald-unique-')),
      envFile: false,
      loadConfig: false,
      env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' },
      configure: (settings) => {
        settings.database = { default: 'main', connections: { main: database.connection } }
        settings.queue = queueConfig('database', 'unused')
      },
    })
    await new Migrator(await app.make('db').connection(), join(projectRoot, 'database', 'migrations')).latest()
  })
  afterEach(() => seen.reset())
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('on the sync connection the job runs at once and its lock is gone when the dispatch resolves', async () => {
    expect(await UniqueReport.dispatch(6).onConnection('now')).not.toBe('')
    expect(await UniqueReport.dispatch(6).onConnection('now')).not.toBe('')
    expect(seen.runs).toEqual(['UniqueReport:6:ok', 'UniqueReport:6:ok'])
    expect(await (await app.make('db').connection())('cache_locks').count({ n: '*' }).then((rows) => Number(rows[0]!.n))).toBe(0)
  })

  it('under Queue.fake() a second dispatch is dropped too, with locks in memory only', async () => {
    using fake = Queue.fake()
    expect(await UniqueReport.dispatch(7)).not.toBe('')
    expect(await UniqueReport.dispatch(7)).toBe('')
    fake.assertPushed(UniqueReport, 1)
    expect(await (await app.make('db').connection())('cache_locks').count({ n: '*' }).then((rows) => Number(rows[0]!.n))).toBe(0)
    using again = Queue.fake()
    const ids = await Promise.all(Array.from({ length: 10 }, () => UniqueReport.dispatch(7)))
    expect(ids.filter((id) => id !== '')).toHaveLength(1)
    again.assertPushed(UniqueReport, 1)
  })

  it('bad input is one clear error line', async () => {
    await expect(BadUniqueId.dispatch()).rejects.toThrow(/^BadUniqueId's uniqueId must be a non-empty string or a number, got \{"not":"an id"\}\.$/)
    expect(() => new WithoutOverlapping('k').releaseAfter(-1)).toThrow('WithoutOverlapping.releaseAfter(seconds) must be a number of seconds, 0 or more, got -1.')
    expect(() => new WithoutOverlapping('k').expireAfter(Number.NaN)).toThrow('WithoutOverlapping.expireAfter(seconds) must be a number of seconds, 0 or more (0: until released), got NaN.')
    class NegativeFor extends ShouldBeUnique(Job) {
      uniqueFor = -5
      handle() {}
    }
    await expect(NegativeFor.dispatch()).rejects.toThrow("NegativeFor's uniqueFor must be a number of seconds, 0 or more (0: until released), got -5.")
  })
})
