/**
 * Jobs (issue 16) on the real SQLite database queue, through the app's own job runner: a job
 * class's constructor arguments travel through the serializer, its options and job context
 * work as for queued listeners, and dispatchSync / dispatchIf / dispatchUnless /
 * dispatchAfterResponse / afterCommit / an un-awaited dispatch behave as Laravel's.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { Bus, Job, Migrator, Queue, ShouldBeUnique, bootApplication, type Application, type JobMiddleware, type Knex, type QueueDriver } from 'herald'
import { createHttpKernel } from '../../src/http/http-kernel.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
  label(): string {
    return `${this.cents} ${this.currency}`
  }
}

/** What each job run saw, in order. */
const runs: Array<{ job: string; attempt: number; detail?: unknown }> = []
const failures: Array<{ job: string; error: string }> = []

class ProcessPodcast extends Job {
  tries = 2
  constructor(
    readonly podcastId: number,
    readonly meta: { publishedAt: Date; tags: Map<string, number>; size: bigint; nested: { price: Money } },
  ) {
    super()
  }
  handle() {
    runs.push({ job: 'ProcessPodcast', attempt: this.attempts(), detail: this })
  }
}

class Flaky extends Job {
  tries = 3
  backoff = 0
  constructor(readonly failTimes: number) {
    super()
  }
  handle() {
    runs.push({ job: 'Flaky', attempt: this.attempts() })
    if (this.attempts() <= this.failTimes) throw new Error(`flaky ${this.attempts()}`)
  }
  failed(error: unknown) {
    failures.push({ job: 'Flaky', error: (error as Error).message })
  }
}

class Releases extends Job {
  tries = 2
  handle() {
    runs.push({ job: 'Releases', attempt: this.attempts() })
    if (this.attempts() === 1) this.release(0)
  }
}

class GivesUp extends Job {
  tries = 5
  handle() {
    runs.push({ job: 'GivesUp', attempt: this.attempts() })
    this.fail(new Error('not worth retrying'))
  }
  failed(error: unknown) {
    failures.push({ job: 'GivesUp', error: (error as Error).message })
  }
}

const order: string[] = []
const stamp =
  (name: string): JobMiddleware =>
  async (_job, next) => {
    order.push(`${name} in`)
    await next()
    order.push(`${name} out`)
  }

class WithMiddleware extends Job {
  middleware(): JobMiddleware[] {
    return [stamp('outer'), { handle: (_job: Job, next: () => Promise<unknown>) => (order.push('skip?'), next()) }, stamp('inner')]
  }
  handle() {
    order.push('handle')
  }
}

class Plain extends Job {
  constructor(readonly n: number) {
    super()
  }
  handle() {
    runs.push({ job: 'Plain', attempt: this.attempts(), detail: this.n })
  }
}

class Transcode extends Job {
  static jobName = 'media.transcode'
  constructor(readonly n: number) {
    super()
  }
  handle() {
    runs.push({ job: 'Transcode', attempt: this.attempts(), detail: this.n })
  }
}

class IndexProduct extends ShouldBeUnique(Job) {
  loop: unknown = null
  constructor(readonly productId: number) {
    super()
  }
  uniqueId() {
    return this.productId
  }
  handle() {}
}

describe('jobs on the SQLite database queue', () => {
  let database: FreshDatabase
  let app: Application
  let knex: Knex
  let driver: QueueDriver

  /** Runs the jobs of `queues` through the app's real job runner until they are empty. */
  async function work(queues: string[] = ['default']): Promise<void> {
    const runner = app.make('queue').runner('database', { tries: 1, backoff: 0, timeout: 0 })
    await driver.consume({ queues, concurrency: 1, sleep: 0.01, stopWhenEmpty: true, signal: new AbortController().signal, process: (job) => runner.process(job) })
  }

  beforeAll(async () => {
    database = await freshDatabase('sqlite')
    app = await bootApplication({
      basePath: projectRoot,
      envFile: false,
      loadConfig: false,
      env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' },
      configure: (config) => {
        config.database = { default: 'main', connections: { main: database.connection } }
        config.queue = {
          default: 'database',
          connections: { database: { driver: 'database', table: 'jobs', queue: 'default', retryAfter: 90 }, now: { driver: 'sync' } },
          failed: { table: 'failed_jobs' },
        }
      },
    })
    knex = await app.make('db').connection()
    await new Migrator(knex, `${projectRoot}/database/migrations`).latest()
    driver = await app.make('queue').connection('database')
    Bus.serializable(Money)
  })
  afterEach(async () => {
    runs.length = 0
    failures.length = 0
    order.length = 0
    await knex('jobs').delete()
    await knex('failed_jobs').delete()
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('queues a job whose constructor arguments come back as they were: Date, Map, BigInt, nested objects, a registered class', async () => {
    const publishedAt = new Date('2026-12-01T10:00:00Z')
    const id = await ProcessPodcast.dispatch(7, { publishedAt, tags: new Map([['news', 2]]), size: 12n ** 20n, nested: { price: new Money(1999n, 'EUR') } })
    expect(typeof id).toBe('string')
    expect(await driver.size('default')).toBe(1)
    expect(runs).toEqual([])
    await work()
    expect(runs).toHaveLength(1)
    const job = runs[0]!.detail as ProcessPodcast
    expect(job).toBeInstanceOf(ProcessPodcast)
    expect(runs[0]!.attempt).toBe(1)
    expect(job.podcastId).toBe(7)
    expect(job.meta.publishedAt).toEqual(publishedAt)
    expect(job.meta.tags).toEqual(new Map([['news', 2]]))
    expect(job.meta.size).toBe(12n ** 20n)
    expect(job.meta.nested.price).toBeInstanceOf(Money)
    expect(job.meta.nested.price.label()).toBe('1999 EUR')
  })

  it('retries a throwing job up to its tries, then calls failed() once and writes failed_jobs', async () => {
    await Flaky.dispatch(1)
    await work()
    expect(runs.map((run) => run.attempt)).toEqual([1, 2])
    expect(failures).toEqual([])

    runs.length = 0
    await Flaky.dispatch(5)
    await work()
    expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3])
    expect(failures).toEqual([{ job: 'Flaky', error: 'flaky 3' }])
    const failed = await (await app.make('queue').failedJobs()).all()
    expect(failed).toHaveLength(1)
    expect(failed[0]!.payload).toContain('"job":"job"')
    expect(failed[0]!.exception).toContain('flaky 3')
  })

  it('release() puts the job back, fail() fails it for good at once', async () => {
    await Releases.dispatch()
    await GivesUp.dispatch()
    await work()
    expect(runs.map((run) => `${run.job}#${run.attempt}`)).toEqual(['Releases#1', 'GivesUp#1', 'Releases#2'])
    expect(failures).toEqual([{ job: 'GivesUp', error: 'not worth retrying' }])
  })

  it('runs middleware outermost first around handle(), on a worker and with dispatchSync', async () => {
    await WithMiddleware.dispatch()
    await work()
    expect(order).toEqual(['outer in', 'skip?', 'inner in', 'handle', 'inner out', 'outer out'])
    order.length = 0
    await WithMiddleware.dispatchSync()
    expect(order).toEqual(['outer in', 'skip?', 'inner in', 'handle', 'inner out', 'outer out'])
  })

  it('onQueue / onConnection / delay on the pending dispatch win over the job’s options', async () => {
    using queue = Queue.fake()
    await Plain.dispatch(1).onQueue('media').delay(30)
    await Plain.dispatch(2).onConnection('now')
    queue.assertPushed(Plain, 2)
    queue.assertPushedOn('media', Plain, (job: Plain) => job.n === 1)
    queue.assertPushed(Plain, (job: Plain, pushed) => job.n === 2 && pushed.connection === 'now')
    expect(queue.pushed.find((pushed) => (pushed.event as Plain).n === 1)!.delay).toBe(30)
    queue.assertNotPushed(Flaky)
  })

  it('dispatchIf / dispatchUnless push only when they should', async () => {
    using queue = Queue.fake()
    expect(await Plain.dispatchIf(false, 1)).toBeNull()
    expect(await Plain.dispatchUnless(() => true, 2)).toBeNull()
    expect(typeof (await Plain.dispatchIf(() => true, 3))).toBe('string')
    await Plain.dispatchUnless(false, 4)
    expect(queue.pushed.map((pushed) => (pushed.event as Plain).n)).toEqual([3, 4])
  })

  it('dispatchSync runs now; a throw calls failed() and rejects', async () => {
    await Plain.dispatchSync(9)
    expect(runs).toEqual([{ job: 'Plain', attempt: 1, detail: 9 }])
    await expect(Flaky.dispatchSync(9)).rejects.toThrow('flaky 1')
    expect(failures).toEqual([{ job: 'Flaky', error: 'flaky 1' }])
    expect(await driver.size('default')).toBe(0)
  })

  it('the sync connection runs a dispatched job at once, and its failure rejects the dispatch', async () => {
    await Plain.dispatch(5).onConnection('now')
    expect(runs).toEqual([{ job: 'Plain', attempt: 1, detail: 5 }])
    await expect(GivesUp.dispatch().onConnection('now')).rejects.toThrow('not worth retrying')
  })

  it('inside DB.transaction, afterCommit() waits for the commit and is dropped on rollback; beforeCommit() goes at once', async () => {
    const db = app.make('db')
    await db.transaction(async (trx) => {
      await Plain.dispatch(1).afterCommit()
      await Plain.dispatch(2).beforeCommit()
      // The database queue writes a job pushed at once inside the transaction, in it.
      expect(await trx('jobs').count({ n: '*' }).then((rows) => Number(rows[0]!.n))).toBe(1)
    })
    expect(await driver.size('default')).toBe(2)
    await knex('jobs').delete()
    await expect(
      db.transaction(async () => {
        await Plain.dispatch(3).afterCommit()
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect(await driver.size('default')).toBe(0)
  })

  it('a dispatch nobody awaits is pushed all the same, after the statement’s fluent calls', async () => {
    void Plain.dispatch(11).onQueue('later')
    await vi.waitFor(async () => expect(await driver.size('later')).toBe(1), { timeout: 5_000, interval: 10 })
    await work(['later'])
    expect(runs).toEqual([{ job: 'Plain', attempt: 1, detail: 11 }])
  })

  it('a fluent call after the dispatch started is an error naming the fix', async () => {
    const pending = Plain.dispatch(12)
    await pending
    expect(() => pending.onQueue('late')).toThrow('onQueue() came after the job was dispatched')
  })

  it('fails a job whose class is not registered with a one-line reason, and keeps its payload in failed_jobs', async () => {
    const envelope = { uuid: 'u-1', displayName: 'Ghost', job: 'job', data: { event: 'Ghost', payload: { $t: 'Event', name: 'Ghost', v: {} } }, attempts: 0 }
    await driver.push(JSON.stringify(envelope), { queue: 'default', delay: 0, priority: 0 })
    await work()
    const failed = await (await app.make('queue').failedJobs()).all()
    expect(failed).toHaveLength(1)
    expect(failed[0]!.exception.split('\n')[0]).toContain('Class "Ghost" is not registered: is it exported from app/events or app/jobs?')
  })

  it('dispatchAfterResponse runs the job once the response has been sent', async () => {
    const kernel = createHttpKernel(app, { channels: app.make('broadcast.channels') })
    kernel.routes.get('/signup', (_request, response) => {
      Plain.dispatchAfterResponse(21)
      expect(runs).toEqual([])
      response.send('welcome')
    })
    const { port } = await kernel.listen(0, '127.0.0.1')
    try {
      const response = await fetch(`http://127.0.0.1:${port}/signup`)
      expect(await response.text()).toBe('welcome')
      await vi.waitFor(() => expect(runs).toEqual([{ job: 'Plain', attempt: 1, detail: 21 }]), { timeout: 5_000, interval: 10 })
    } finally {
      await kernel.close()
    }
    // Outside a request it runs at once.
    runs.length = 0
    Plain.dispatchAfterResponse(22)
    await vi.waitFor(() => expect(runs).toEqual([{ job: 'Plain', attempt: 1, detail: 22 }]), { timeout: 5_000, interval: 10 })
  })

  it('a unique job whose push failed leaves no lock behind: the next dispatch is queued', async () => {
    const broken = new IndexProduct(3)
    broken.loop = { back: broken }
    await expect(Bus.dispatch(broken)).rejects.toThrow('nested deeper')
    const id = await IndexProduct.dispatch(3)
    expect(id).not.toBe('')
    expect(await IndexProduct.dispatch(3)).toBe('')
    expect(await driver.size('default')).toBe(1)
    await knex('cache_locks').delete()
  })

  it('a job with a static jobName travels under that name and is rebuilt by the worker', async () => {
    await Transcode.dispatch(4)
    const row = (await knex('jobs').first('payload')) as { payload: string }
    expect(JSON.parse(row.payload)).toMatchObject({ displayName: 'media.transcode', job: 'job', data: { event: 'media.transcode', payload: { $t: 'Event', name: 'media.transcode' } } })
    await work()
    expect(runs).toEqual([{ job: 'Transcode', attempt: 1, detail: 4 }])
  })

  it('a unique job dropped from a batch (its lock held) counts as done, so the batch still finishes', async () => {
    expect(await IndexProduct.dispatch(5)).not.toBe('')
    const batch = await Bus.batch([new IndexProduct(5), new Plain(1)]).name('reindex').dispatch()
    expect((await Bus.findBatch(batch.id))!.pendingJobs).toBe(1)
    await work()
    const done = (await Bus.findBatch(batch.id))!
    expect([done.totalJobs, done.pendingJobs, done.failedJobs, done.finished]).toEqual([2, 0, 0, true])
    expect(runs).toEqual([{ job: 'Plain', attempt: 1, detail: 1 }])
    await knex('cache_locks').delete()
  })
})
