import { spawn } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import {
  Dispatchable,
  Listener,
  Migrator,
  ShouldQueue,
  createApplication,
  type Application,
  type ConsumeOptions,
  type Knex,
  type QueueDriver,
  type QueueOptions,
} from 'herald'
import { DatabaseFailedJobStore } from '../../src/queue/database-failed-job-store.ts'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

/** An application on its own database, whose default queue connection is the database driver. */
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
        connections: {
          database: { driver: 'database', table: 'jobs', queue: 'default', retryAfter: 90 },
          unmigrated: { driver: 'database', database: 'main', table: 'missing_jobs', queue: 'default', retryAfter: 90 },
        },
        failed: { table: 'failed_jobs' },
      }
    },
  })
}

/** A promise and the function that resolves it: for waiting on a condition instead of a clock. */
function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => (resolve = done))
  return { promise, resolve }
}

/** A few turns of the event loop: enough for a wrong early resolution to show. */
async function turns(count = 20): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe.each<Dialect>(['sqlite', 'pgsql', 'mysql'])('the database queue on %s', (dialect) => {
  let database: FreshDatabase
  let app: Application
  let knex: Knex
  let driver: QueueDriver

  /** Consumes the default queue through the app's real job runner; options override. */
  function consume(options: Partial<ConsumeOptions> & { app?: Application } = {}): Promise<void> {
    const source = options.app ?? app
    const runner = source.make('queue').runner('database')
    return source
      .make('queue')
      .connection('database')
      .then((consumer) =>
        consumer.consume({
          queues: ['default'],
          concurrency: 1,
          sleep: 10,
          stopWhenEmpty: true,
          signal: new AbortController().signal,
          process: (job) => runner.process(job),
          ...options,
        }),
      )
  }

  beforeAll(async () => {
    database = await freshDatabase(dialect)
    app = makeApp(database)
    await app.boot()
    knex = await app.make('db').connection()
    await new Migrator(knex, `${projectRoot}/database/migrations`).latest()
    driver = await app.make('queue').connection('database')
  })
  afterEach(async () => {
    await knex('jobs').delete()
    await knex('failed_jobs').delete()
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('stores a queued listener as a row and runs it through the job runner, then deletes it', async () => {
    const seen: unknown[] = []
    class RoundTripPlaced extends Dispatchable {
      constructor(
        readonly orderId: number,
        readonly placedAt = new Date('2026-11-23T10:00:00Z'),
      ) {
        super()
      }
    }
    class RoundTripListener extends ShouldQueue(Listener.for(RoundTripPlaced)) {
      handle(event: RoundTripPlaced) {
        seen.push([event instanceof RoundTripPlaced, event.orderId, event.placedAt.toISOString(), this.attempts()])
      }
    }
    app.make('events').listen(RoundTripPlaced, RoundTripListener)

    const before = Date.now()
    const [id] = await app.make('events').dispatch(new RoundTripPlaced(7))
    expect(seen).toEqual([])
    const rows = await knex('jobs').select('*')
    expect(rows).toHaveLength(1)
    const row = rows[0]!
    expect(String(row.id)).toBe(id)
    expect(row).toMatchObject({ queue: 'default', reserved_at: null })
    expect(Number(row.attempts)).toBe(0)
    expect(Number(row.available_at)).toBeGreaterThanOrEqual(before)
    expect(Number(row.available_at)).toBe(Number(row.created_at))
    expect(JSON.parse(row.payload)).toMatchObject({ displayName: 'RoundTripListener', job: 'listener' })
    expect(await driver.size('default')).toBe(1)

    await consume()
    expect(seen).toEqual([[true, 7, '2026-11-23T10:00:00.000Z', 1]])
    expect(await driver.size('default')).toBe(0)
  })

  it('takes jobs from earlier queues first, oldest first within a queue', async () => {
    const order: string[] = []
    class LaneEvent extends Dispatchable {
      constructor(
        readonly name: string,
        readonly lane: string,
      ) {
        super()
      }
    }
    class LaneListener extends ShouldQueue(Listener.for(LaneEvent)) implements QueueOptions<LaneEvent> {
      queue(event: LaneEvent) {
        return event.lane
      }
      handle(event: LaneEvent) {
        order.push(event.name)
      }
    }
    app.make('events').listen(LaneEvent, LaneListener)
    for (const n of [1, 2, 3]) {
      await app.make('events').dispatch(new LaneEvent(`low${n}`, 'low'))
      await app.make('events').dispatch(new LaneEvent(`high${n}`, 'high'))
    }
    expect(await driver.size('low')).toBe(3)
    expect(await driver.size('high')).toBe(3)
    await consume({ queues: ['high', 'low'] })
    expect(order).toEqual(['high1', 'high2', 'high3', 'low1', 'low2', 'low3'])
  })

  it('honours a delay: not before it, and without waiting out the sleep', async () => {
    let ranAt = 0
    class DelayedEvent extends Dispatchable {}
    class DelayedListener extends ShouldQueue(Listener.for(DelayedEvent)) implements QueueOptions<DelayedEvent> {
      delay = 0.4
      handle() {
        ranAt = Date.now()
      }
    }
    app.make('events').listen(DelayedEvent, DelayedListener)
    const pushedAt = Date.now()
    await app.make('events').dispatch(new DelayedEvent())

    // A delayed job is not "available": a stop-when-empty consumer leaves it.
    await consume()
    expect(ranAt).toBe(0)
    expect(await driver.size('default')).toBe(1)

    const stop = new AbortController()
    const runner = app.make('queue').runner('database')
    const started = Date.now()
    await consume({
      stopWhenEmpty: false,
      sleep: 10,
      signal: stop.signal,
      process: async (job) => {
        const outcome = await runner.process(job)
        stop.abort()
        return outcome
      },
    })
    expect(ranAt - pushedAt).toBeGreaterThanOrEqual(400)
    // It woke when the job was due, not after the 10 s sleep.
    expect(Date.now() - started).toBeLessThan(3000)
    expect(await driver.size('default')).toBe(0)
  })

  it('release() puts the job back with its attempt counted, and delivers it again after the delay', async () => {
    const attempts: Array<{ attempt: number; at: number; reserved: boolean }> = []
    const done = new AbortController()
    class ReleasedEvent extends Dispatchable {}
    class ReleasingListener extends ShouldQueue(Listener.for(ReleasedEvent)) implements QueueOptions<ReleasedEvent> {
      tries = 3
      async handle() {
        const [row] = await knex('jobs').select('reserved_at')
        attempts.push({ attempt: this.attempts(), at: Date.now(), reserved: row!.reserved_at !== null })
        if (this.attempts() === 1) this.release(0.25)
        else done.abort()
      }
    }
    app.make('events').listen(ReleasedEvent, ReleasingListener)
    await app.make('events').dispatch(new ReleasedEvent())
    // The first run: the worker stops once the release is decided, and writes it on its way out.
    const first = new AbortController()
    const runner = app.make('queue').runner('database')
    await consume({
      stopWhenEmpty: false,
      signal: first.signal,
      process: async (job) => {
        const outcome = await runner.process(job)
        first.abort()
        return outcome
      },
    })
    const [row] = await knex('jobs').select('attempts', 'reserved_at', 'available_at')
    expect({ attempts: Number(row!.attempts), reserved: row!.reserved_at !== null }).toEqual({ attempts: 1, reserved: false })
    expect(Number(row!.available_at)).toBeGreaterThanOrEqual(attempts[0]!.at + 250)

    await consume({ stopWhenEmpty: false, signal: done.signal })
    expect(attempts.map(({ attempt, reserved }) => ({ attempt, reserved }))).toEqual([
      { attempt: 1, reserved: true },
      { attempt: 2, reserved: true },
    ])
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(250)
    expect(await driver.size('default')).toBe(0)
  })

  it('one dispatch queueing three listeners writes them in one INSERT (MySQL: three side by side), each its own job', async () => {
    class Fanned extends Dispatchable {
      constructor(readonly n: number) {
        super()
      }
    }
    const ran: string[] = []
    class FirstFan extends ShouldQueue(Listener.for(Fanned)) {
      handle(event: Fanned) {
        ran.push(`first ${event.n}`)
      }
    }
    class SecondFan extends ShouldQueue(Listener.for(Fanned)) {
      handle(event: Fanned) {
        ran.push(`second ${event.n}`)
      }
    }
    class ThirdFan extends ShouldQueue(Listener.for(Fanned)) {
      handle(event: Fanned) {
        ran.push(`third ${event.n}`)
      }
    }
    for (const listener of [FirstFan, SecondFan, ThirdFan]) app.make('events').listen(Fanned, listener)
    const inserts: string[] = []
    const onQuery = (query: { sql: string }) => {
      if (/^(insert|with inserted)/i.test(query.sql.trim())) inserts.push(query.sql)
    }
    knex.on('query', onQuery)
    onTestFinished(() => void knex.off('query', onQuery))
    const ids = (await app.make('events').dispatch(new Fanned(1))) as string[]
    expect(inserts).toHaveLength(dialect === 'mysql' ? 3 : 1)
    expect(new Set(ids).size).toBe(3)
    const rows = await knex('jobs').orderBy('id').select('id', 'payload')
    // Each id is its listener's row, in listener order.
    expect(rows.map((row) => String(row.id))).toEqual(ids)
    expect(rows.map((row) => (JSON.parse(row.payload as string) as { data: { listener: string } }).data.listener)).toEqual(['FirstFan', 'SecondFan', 'ThirdFan'])

    // Inside a transaction that rolls back, none of them stays.
    await expect(
      app.make('db').transaction(async () => {
        await app.make('events').dispatch(new Fanned(2))
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect(await driver.size('default')).toBe(3)
    await consume()
    expect(ran.sort()).toEqual(['first 1', 'second 1', 'third 1'])
  })

  it('delivers again a job whose lease lapsed (its worker died), counting that attempt', async () => {
    const seen: Array<[number, number]> = []
    class OrphanEvent extends Dispatchable {
      constructor(readonly n: number) {
        super()
      }
    }
    class OrphanListener extends ShouldQueue(Listener.for(OrphanEvent)) implements QueueOptions<OrphanEvent> {
      tries = 3
      handle(event: OrphanEvent) {
        seen.push([event.n, this.attempts()])
      }
    }
    app.make('events').listen(OrphanEvent, OrphanListener)
    const [dead] = await app.make('events').dispatch(new OrphanEvent(1))
    const [alive] = await app.make('events').dispatch(new OrphanEvent(2))
    const now = Date.now()
    // One claimed by a worker whose lease lapsed a second ago, one held by a live worker
    // (which renewed its lease a moment ago: stopWhenEmpty sees it move on and leaves it).
    await knex('jobs').where('id', dead as string).update({ reserved_at: now - 11_000, lease_expires_at: now - 1_000, attempts: 1 })
    await knex('jobs').where('id', alive as string).update({ reserved_at: now - 1_000, lease_expires_at: now + 9_000, attempts: 1 })
    const renewing = setInterval(() => {
      knex('jobs')
        .where('id', alive as string)
        .update({ lease_expires_at: Date.now() + 9_000 })
        .then(
          () => {},
          () => {},
        )
    }, 50)
    onTestFinished(() => clearInterval(renewing))
    await consume()
    expect(seen).toEqual([[1, 2]])
    const left = await knex('jobs').select('id')
    expect(left.map((row) => String(row.id))).toEqual([alive])
  })

  it('fails a garbage row into failed_jobs with the reason, and keeps going', async () => {
    const seen: number[] = []
    class AfterGarbage extends Dispatchable {
      constructor(readonly n: number) {
        super()
      }
    }
    class AfterGarbageListener extends ShouldQueue(Listener.for(AfterGarbage)) {
      handle(event: AfterGarbage) {
        seen.push(event.n)
      }
    }
    app.make('events').listen(AfterGarbage, AfterGarbageListener)
    const now = Date.now()
    const unknownListener = JSON.stringify({ uuid: 'c0ffee00-0000-4000-8000-000000000001', job: 'listener', data: { listener: 'Nobody', event: 'AfterGarbage', payload: null } })
    await knex('jobs').insert([
      { queue: 'default', payload: '{not json', attempts: 0, available_at: now, created_at: now },
      { queue: 'default', payload: unknownListener, attempts: 0, available_at: now, created_at: now },
    ])
    await app.make('events').dispatch(new AfterGarbage(3))

    await consume()
    expect(seen).toEqual([3])
    expect(await driver.size('default')).toBe(0)
    const failed = await (await app.make('queue').failedJobs()).all()
    expect(failed.map(({ connection, queue, payload }) => ({ connection, queue, payload }))).toEqual([
      { connection: 'database', queue: 'default', payload: expect.stringContaining('"listener":"Nobody"') },
      { connection: 'database', queue: 'default', payload: '{not json' },
    ])
    expect(failed[0]!.uuid).toBe('c0ffee00-0000-4000-8000-000000000001')
    expect(failed[0]!.exception).toContain('Listener "Nobody" is not a registered queued listener')
    expect(failed[1]!.exception).toContain('The job payload is not JSON')
  })

  it('never gives one job to two consumers: 200 jobs, 2 consumers × concurrency 4, each run exactly once', async () => {
    const other = makeApp(database)
    await other.boot()
    try {
      const runs = new Map<number, number>()
      const by = { first: 0, second: 0 }
      class Crowded extends Dispatchable {
        constructor(readonly n: number) {
          super()
        }
      }
      const listenerFor = (consumer: keyof typeof by) =>
        class CrowdedListener extends ShouldQueue(Listener.for(Crowded)) {
          async handle(event: Crowded) {
            runs.set(event.n, (runs.get(event.n) ?? 0) + 1)
            by[consumer]++
            // Hold the job across a turn of the loop, so claims interleave with work in hand.
            await new Promise((resolve) => setImmediate(resolve))
          }
        }
      app.make('events').listen(Crowded, listenerFor('first'))
      other.make('events').listen(Crowded, listenerFor('second'))
      for (let n = 1; n <= 200; n++) await app.make('events').dispatch(new Crowded(n))
      expect(await driver.size('default')).toBe(200)

      await Promise.all([consume({ concurrency: 4 }), consume({ concurrency: 4, app: other })])
      expect(runs.size).toBe(200)
      expect([...runs.values()].every((count) => count === 1)).toBe(true)
      expect(by.first + by.second).toBe(200)
      expect(await driver.size('default')).toBe(0)
    } finally {
      await other.shutdown()
    }
  })

  it('never gives one job to two worker processes: 400 jobs, 2 processes × concurrency 4', async () => {
    const now = Date.now()
    const rows = Array.from({ length: 400 }, (_, n) => ({ queue: 'default', payload: `{"n":${n}}`, attempts: 0, available_at: now, created_at: now }))
    for (let i = 0; i < rows.length; i += 100) await knex('jobs').insert(rows.slice(i, i + 100))
    const ids = (await knex('jobs').select('id')).map((row) => String(row.id)).sort()

    const workers = [0, 1].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/queue-consumer.ts'], {
        cwd: projectRoot,
        env: { ...process.env, HERALD_TEST_DB: JSON.stringify(database.connection) },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      const ready = deferred()
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk
        if (stdout.startsWith('ready\n')) ready.resolve()
      })
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
      exited.then(() => ready.resolve())
      return { child, ready: ready.promise, exited, output: () => ({ stdout, stderr }) }
    })
    // Whatever happens below, no consumer outlives the test.
    onTestFinished(() => {
      for (const { child } of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    await Promise.all(workers.map((worker) => worker.ready))
    for (const worker of workers) worker.child.stdin.end('go\n')
    const codes = await Promise.all(workers.map((worker) => worker.exited))
    for (const worker of workers) expect(worker.output().stderr).toBe('')
    expect(codes).toEqual([0, 0])

    const taken = workers.map((worker) => JSON.parse(worker.output().stdout.split('\n')[1]!) as string[])
    // Both took part, and between them every job was taken exactly once.
    expect(taken[0]!.length).toBeGreaterThan(0)
    expect(taken[1]!.length).toBeGreaterThan(0)
    expect([...taken[0]!, ...taken[1]!].sort()).toEqual(ids)
    expect(await driver.size('default')).toBe(0)
  })

  it('stopWhenEmpty waits for the jobs in hand: a job released by one loop is taken again before it resolves', async () => {
    const attempts: number[] = []
    class Bouncing extends Dispatchable {}
    class BouncingListener extends ShouldQueue(Listener.for(Bouncing)) implements QueueOptions<Bouncing> {
      tries = 2
      handle() {
        attempts.push(this.attempts())
        if (this.attempts() === 1) this.release(0)
      }
    }
    app.make('events').listen(Bouncing, BouncingListener)
    await app.make('events').dispatch(new Bouncing())
    await consume({ concurrency: 3 })
    expect(attempts).toEqual([1, 2])
    expect(await driver.size('default')).toBe(0)
  })

  it('on abort takes no new job, finishes those in hand (and settles them), then resolves', async () => {
    const log: string[] = []
    const twoStarted = deferred()
    const gate = deferred()
    class Gated extends Dispatchable {
      constructor(readonly n: number) {
        super()
      }
    }
    class GatedListener extends ShouldQueue(Listener.for(Gated)) {
      async handle(event: Gated) {
        log.push(`start ${event.n}`)
        if (log.length === 2) twoStarted.resolve()
        await gate.promise
        log.push(`finish ${event.n}`)
      }
    }
    app.make('events').listen(Gated, GatedListener)
    for (let n = 1; n <= 5; n++) await app.make('events').dispatch(new Gated(n))

    const stop = new AbortController()
    const consuming = consume({ concurrency: 2, stopWhenEmpty: false, sleep: 10, signal: stop.signal }).then(() => log.push('resolved'))
    await twoStarted.promise
    stop.abort()
    await turns()
    // The two loops claim side by side: jobs 1 and 2, in either order.
    expect([...log].sort()).toEqual(['start 1', 'start 2'])
    gate.resolve()
    await consuming
    expect(log).toHaveLength(5)
    expect(log.slice(2, 4).sort()).toEqual(['finish 1', 'finish 2'])
    expect(log[4]).toBe('resolved')
    expect(await driver.size('default')).toBe(3)
    expect(Number((await knex('jobs').whereNotNull('reserved_at').count({ count: '*' }))[0]!.count)).toBe(0)
  })

  it('a push in this process wakes a consumer sleeping on an empty queue', async () => {
    const ran = deferred()
    class Wakeup extends Dispatchable {}
    class WakeupListener extends ShouldQueue(Listener.for(Wakeup)) {
      handle() {
        ran.resolve()
      }
    }
    app.make('events').listen(Wakeup, WakeupListener)
    const stop = new AbortController()
    const started = Date.now()
    const consuming = consume({ stopWhenEmpty: false, sleep: 10, signal: stop.signal })
    await turns()
    await app.make('events').dispatch(new Wakeup())
    await ran.promise
    stop.abort()
    await consuming
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('clear() deletes a queue’s rows and size() counts them, per queue', async () => {
    await driver.push('{}', { queue: 'a', delay: 0, priority: 0 })
    await driver.push('{}', { queue: 'a', delay: 60, priority: 0 })
    await driver.push('{}', { queue: 'b', delay: 0, priority: 0 })
    expect(await driver.size('a')).toBe(2)
    expect(await driver.clear('a')).toBe(2)
    expect(await driver.size('a')).toBe(0)
    expect(await driver.size('b')).toBe(1)
  })

  it('names the fix when the jobs table was never migrated', async () => {
    const unmigrated = await app.make('queue').connection('unmigrated')
    await expect(unmigrated.push('{}', { queue: 'default', delay: 0, priority: 0 })).rejects.toThrow(
      'The table "missing_jobs" does not exist on database connection "main": run "artisan migrate" (with --database=main if it is not the default).',
    )
  })

  describe('the failed_jobs store', () => {
    it('logs with the envelope’s uuid (or a new one), lists newest first, finds, forgets and flushes', async () => {
      const store = new DatabaseFailedJobStore(app.make('db'), 'failed_jobs')
      const envelope = JSON.stringify({ uuid: 'feed0000-0000-4000-8000-000000000001', job: 'listener', data: { event: 'E' } })
      const first = await store.log('database', 'default', envelope, new Error('first failure'))
      expect(first).toMatchObject({ uuid: 'feed0000-0000-4000-8000-000000000001', connection: 'database', queue: 'default', payload: envelope })
      expect(first.exception).toContain('Error: first failure')
      expect(first.failedAt).toBeInstanceOf(Date)
      expect(Math.abs(first.failedAt.getTime() - Date.now())).toBeLessThan(60_000)

      const garbage = await store.log('bullmq', 'emails', 'garbage', 'not an Error')
      expect(garbage.uuid).toMatch(/^[0-9a-f-]{36}$/)
      expect(garbage.exception).toBe('not an Error')

      // The same job failing again (retried, or delivered twice) updates its record.
      const again = await store.log('database', 'high', envelope, new Error('second failure'))
      expect(again.id).toBe(first.id)
      expect(again.queue).toBe('high')
      expect(again.exception).toContain('second failure')

      expect((await store.all()).map((job) => job.id)).toEqual([garbage.id, first.id])
      expect((await store.find(String(first.id)))?.uuid).toBe(first.uuid)
      expect((await store.find(garbage.uuid))?.id).toBe(garbage.id)
      expect(await store.find('999999')).toBeNull()
      expect(await store.find('no-such-uuid')).toBeNull()

      expect(await store.forget(garbage.uuid)).toBe(true)
      expect(await store.forget(garbage.uuid)).toBe(false)
      const third = await store.log('database', 'default', 'x', new Error('third'))
      await knex('failed_jobs')
        .where('id', first.id)
        .update({ failed_at: new Date(Date.now() - 3 * 3_600_000) })
      expect(await store.flush(2)).toBe(1)
      expect((await store.all()).map((job) => job.id)).toEqual([third.id])
      expect(await store.flush()).toBe(1)
      expect(await store.all()).toEqual([])
    })
  })
})
