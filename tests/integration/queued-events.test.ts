/**
 * Queued events (issue 12, problem 6) on a real database queue (SQLite): their options come
 * from the dispatched instance, so a constructor may use its arguments, and their queued
 * listeners run in the worker in the event's job, one trip through the queue, unless they
 * name another queue.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  Dispatchable,
  Listener,
  Migrator,
  ShouldQueue,
  createApplication,
  type Application,
  type Knex,
  type PushOptions,
  type QueueDriver,
  type QueueOptions,
} from 'herald'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

interface Order {
  readonly id: number
  readonly total: number
  readonly region: string
}

class Shipped extends ShouldQueue(Dispatchable) implements QueueOptions<Shipped> {
  readonly total: number
  readonly tries: number
  constructor(readonly order: Order) {
    super()
    this.total = order.total
    this.tries = order.total > 100 ? 3 : 1
  }
  backoff() {
    return [this.order.id, this.order.id * 2]
  }
}

describe('queued events on the SQLite database queue', () => {
  let database: FreshDatabase
  let app: Application
  let knex: Knex
  let driver: QueueDriver
  /** The queue of every push the real driver received, in order. */
  const pushes: string[] = []

  /** Runs the jobs of `queues` through the app's real job runner until they are empty. */
  async function work(queues: string[] = ['default']): Promise<void> {
    const runner = app.make('queue').runner('database')
    await driver.consume({
      queues,
      concurrency: 1,
      sleep: 0.01,
      stopWhenEmpty: true,
      signal: new AbortController().signal,
      process: (job) => runner.process(job),
    })
  }

  beforeAll(async () => {
    database = await freshDatabase('sqlite')
    app = createApplication({
      basePath: projectRoot,
      envFile: false,
      loadConfig: false,
      env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' },
      configure: (config) => {
        config.database = { default: 'main', connections: { main: database.connection } }
        config.queue = {
          default: 'database',
          connections: { database: { driver: 'database', table: 'jobs', queue: 'default', retryAfter: 90 } },
          failed: { table: 'failed_jobs' },
        }
      },
    })
    await app.boot()
    knex = await app.make('db').connection()
    await new Migrator(knex, `${projectRoot}/database/migrations`).latest()
    driver = await app.make('queue').connection('database')
    // Counts what reaches the real driver; the push itself is the driver's own.
    const push = driver.push.bind(driver)
    driver.push = (payload: string, options: PushOptions) => {
      pushes.push(options.queue)
      return push(payload, options)
    }
  })
  afterEach(async () => {
    app.make('events').flush()
    pushes.length = 0
    await knex('jobs').delete()
    await knex('failed_jobs').delete()
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('queues an event whose constructor uses its arguments, with options read from that instance', async () => {
    const seen: unknown[] = []
    app.make('events').listen(Shipped, (event: Shipped) => {
      seen.push([event instanceof Shipped, event.order, event.total])
    })
    await app.make('events').dispatch(new Shipped({ id: 4, total: 250, region: 'eu' }))
    expect(seen).toEqual([])
    const [row] = await knex('jobs').select('payload', 'queue')
    expect(JSON.parse(row.payload as string)).toMatchObject({ job: 'event', displayName: 'Shipped', maxTries: 3, backoff: [4, 8] })

    await work()
    expect(seen).toEqual([[true, { id: 4, total: 250, region: 'eu' }, 250]])
    expect(await driver.size('default')).toBe(0)
    // Another instance, other values: read per event, not frozen from the first.
    await app.make('events').dispatch(new Shipped({ id: 1, total: 5, region: 'us' }))
    const [second] = await knex('jobs').select('payload')
    expect(JSON.parse(second.payload as string)).toMatchObject({ maxTries: 1, backoff: [1, 2] })
  })

  it('runs its queued listeners in the worker in the same job: one push, not two', async () => {
    const seen: unknown[] = []
    class Invoice extends ShouldQueue(Listener.for(Shipped)) {
      handle(event: Shipped) {
        seen.push([event instanceof Shipped, event.total, this.attempts(), this.signal.aborted])
      }
    }
    app.make('events').listen(Shipped, Invoice)
    await app.make('events').dispatch(new Shipped({ id: 2, total: 40, region: 'eu' }))
    expect(pushes).toEqual(['default'])

    await work()
    expect(seen).toEqual([[true, 40, 1, false]])
    expect(pushes).toEqual(['default'])
    expect(await driver.size('default')).toBe(0)
    expect(await knex('failed_jobs').count({ n: '*' })).toEqual([{ n: 0 }])
  })

  it('still queues a listener that names another queue, there', async () => {
    const seen: string[] = []
    class Inline extends ShouldQueue(Listener.for(Shipped)) {
      handle() {
        seen.push('inline')
      }
    }
    class Mailer extends ShouldQueue(Listener.for(Shipped)) {
      queue = 'mail'
      handle(event: Shipped) {
        seen.push(`mail ${event.order.id}`)
      }
    }
    app.make('events').listen(Shipped, Inline)
    app.make('events').listen(Shipped, Mailer)
    await app.make('events').dispatch(new Shipped({ id: 3, total: 10, region: 'eu' }))
    await work()
    expect(seen).toEqual(['inline'])
    expect(pushes).toEqual(['default', 'mail'])
    expect(await driver.size('mail')).toBe(1)

    await work(['mail'])
    expect(seen).toEqual(['inline', 'mail 3'])
  })

  it('fails the event job with what an inline listener threw, even with onError set, and calls its failed()', async () => {
    const events = app.make('events')
    const reported: string[] = []
    const failures: string[] = []
    class Broken extends ShouldQueue(Listener.for(Shipped)) {
      handle(event: Shipped) {
        throw new Error(`invoice ${event.order.id} broke on attempt ${this.attempts()}`)
      }
      failed(event: Shipped, error: unknown) {
        failures.push(`${event.order.id}: ${(error as Error).message}`)
      }
    }
    events.listen(Shipped, Broken)
    events.onError((error) => {
      reported.push((error as Error).message)
    })
    try {
      await events.dispatch(new Shipped({ id: 5, total: 1, region: 'eu' }))
      await work()
    } finally {
      events.onError(null)
    }
    expect(reported).toEqual(['invoice 5 broke on attempt 1'])
    expect(failures).toEqual(['5: invoice 5 broke on attempt 1'])
    const rows = await knex('failed_jobs').select('exception', 'payload')
    expect(rows).toHaveLength(1)
    expect((rows[0]!.exception as string).split('\n')[0]).toBe('Error: invoice 5 broke on attempt 1')
    expect(JSON.parse(rows[0]!.payload as string)).toMatchObject({ job: 'event', displayName: 'Shipped' })
    expect(pushes).toEqual(['default'])
  })
})
