/**
 * One conformance suite for every queue driver: the same listeners, options and expectations
 * on sync, database (SQLite, PostgreSQL, MariaDB) and BullMQ (Redis). Real services only; a
 * service that is down fails the suite.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Dispatchable, Listener, ShouldQueue, createApplication, type Application, type QueueOptions } from 'herald'
import { Migrator } from '../../src/database/migrator.ts'
import { Worker } from '../../src/queue/worker.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

interface DriverCase {
  readonly name: string
  readonly db: 'sqlite' | 'pgsql' | 'mysql'
  readonly queue: 'sync' | 'database' | 'bullmq'
}

const cases: DriverCase[] = [
  { name: 'sync', db: 'sqlite', queue: 'sync' },
  { name: 'database on SQLite', db: 'sqlite', queue: 'database' },
  { name: 'database on PostgreSQL', db: 'pgsql', queue: 'database' },
  { name: 'database on MariaDB', db: 'mysql', queue: 'database' },
  { name: 'bullmq on Redis', db: 'sqlite', queue: 'bullmq' },
]

class Ping extends Dispatchable {
  constructor(readonly n: number) {
    super()
  }
}

/** A fresh application on the case's database (one of its own) and queue connection, tables migrated. */
async function bootCase(driver: DriverCase): Promise<{ app: Application; database: FreshDatabase | null }> {
  const base = mkdtempSync(join(tmpdir(), 'herald-conformance-'))
  const database = driver.db === 'sqlite' ? null : await freshDatabase(driver.db)
  const app = createApplication({
    basePath: base,
    envFile: false,
    loadConfig: false,
    env: {
      LOG_LEVEL: 'silent',
      DB_CONNECTION: driver.db,
      DB_DATABASE: database === null ? join(base, 'database.sqlite') : (database.connection as { database: string }).database,
      QUEUE_CONNECTION: driver.queue,
      QUEUE_PREFIX: `conformance-${process.pid}-${Date.now()}`,
    },
  })
  await app.boot()
  const knex = await app.make('db').connection()
  await new Migrator(knex, join(projectRoot, 'database', 'migrations')).latest()
  return { app, database }
}

function elapsedGaps(times: readonly number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]!)
}

describe.each(cases.map((driver) => [driver.name, driver] as const))('queue conformance: %s', (_name, driver) => {
  let app: Application
  let database: FreshDatabase | null = null
  const workers: Worker[] = []

  beforeAll(async () => {
    ;({ app, database } = await bootCase(driver))
  })
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()))
    await app?.shutdown()
    await database?.drop()
  })

  /** Starts a worker on the case's connection (nothing to start on sync). */
  function startWorker(queues: string[] = ['default'], concurrency = 1): Worker | null {
    if (driver.queue === 'sync') return null
    const worker = new Worker(app.make('queue'), {
      connection: driver.queue,
      queues,
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

  /** Dispatches; on sync a job that fails for good rejects the dispatch, which is expected here. */
  async function dispatch(event: object): Promise<void> {
    await app
      .make('events')
      .dispatch(event)
      .catch((error: unknown) => {
        if (driver.queue !== 'sync') throw error
      })
  }

  async function failedRows(displayName: string) {
    const rows = await (await app.make('queue').failedJobs()).all()
    return rows.filter((row) => (JSON.parse(row.payload) as { displayName?: string }).displayName === displayName)
  }

  it('runs a queued listener with its event rebuilt', async () => {
    const seen: Array<[boolean, number]> = []
    class Rebuilt extends ShouldQueue(Listener.for(Ping)) {
      handle(event: Ping) {
        seen.push([event instanceof Ping, event.n])
      }
    }
    app.make('events').listen(Ping, Rebuilt)
    const worker = startWorker()
    await dispatch(new Ping(1))
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual([[true, 1]])
    await worker?.stop()
    app.make('events').forget(Ping)
  })

  it('retries with the exact backoff list, calls failed() once and writes failed_jobs', async () => {
    const starts: number[] = []
    const failures: string[] = []
    class Backoff extends ShouldQueue(Listener.for(Ping)) implements QueueOptions<Ping> {
      tries = 3
      backoff = [0.2, 0.4]
      handle() {
        starts.push(performance.now())
        throw new Error(`attempt ${this.attempts()}`)
      }
      failed(event: Ping, error: unknown) {
        failures.push(`${event.n}:${(error as Error).message}`)
      }
    }
    app.make('events').listen(Ping, Backoff)
    const worker = startWorker()
    await dispatch(new Ping(2))
    await expect.poll(() => failures, { timeout: 10_000 }).toEqual(['2:attempt 3'])
    await worker?.stop()
    const [first, second] = elapsedGaps(starts)
    expect(starts).toHaveLength(3)
    expect(first).toBeGreaterThanOrEqual(190)
    expect(first).toBeLessThan(1500)
    expect(second).toBeGreaterThanOrEqual(390)
    expect(second).toBeLessThan(1700)
    const rows = await failedRows('Backoff')
    expect(rows).toHaveLength(1)
    expect(rows[0]!.exception).toContain('attempt 3')
    expect(rows[0]!.connection).toBe(driver.queue)
    app.make('events').forget(Ping)
  })

  it('release() puts the job back and counts the attempt', async () => {
    const attempts: number[] = []
    class Releasing extends ShouldQueue(Listener.for(Ping)) {
      tries = 5
      handle() {
        attempts.push(this.attempts())
        if (this.attempts() < 3) this.release(0.05)
      }
    }
    app.make('events').listen(Ping, Releasing)
    const worker = startWorker()
    await dispatch(new Ping(3))
    await expect.poll(() => attempts, { timeout: 10_000 }).toEqual([1, 2, 3])
    await worker?.stop()
    expect(await failedRows('Releasing')).toEqual([])
    app.make('events').forget(Ping)
  })

  it('retryUntil takes precedence over tries', async () => {
    let runs = 0
    const failures: number[] = []
    class UntilDeadline extends ShouldQueue(Listener.for(Ping)) {
      tries = 1
      backoff = 0.05
      retryUntil() {
        return new Date(Date.now() + 500)
      }
      handle() {
        runs++
        throw new Error('not yet')
      }
      failed() {
        failures.push(runs)
      }
    }
    app.make('events').listen(Ping, UntilDeadline)
    const worker = startWorker()
    await dispatch(new Ping(4))
    await expect.poll(() => failures.length, { timeout: 10_000 }).toBe(1)
    await worker?.stop()
    expect(runs).toBeGreaterThan(1)
    app.make('events').forget(Ping)
  })

  it('a timeout aborts the attempt and, with failOnTimeout, fails the job', async () => {
    const failures: string[] = []
    class TooSlow extends ShouldQueue(Listener.for(Ping)) {
      tries = 3
      timeout = 0.2
      failOnTimeout = true
      async handle() {
        const signal = this.signal
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      }
      failed(_event: Ping, error: unknown) {
        failures.push((error as Error).message)
      }
    }
    app.make('events').listen(Ping, TooSlow)
    const worker = startWorker()
    await dispatch(new Ping(5))
    await expect.poll(() => failures, { timeout: 10_000 }).toEqual(['TooSlow timed out after 0.2 s.'])
    await worker?.stop()
    app.make('events').forget(Ping)
  })

  it('maxExceptions fails the job before tries run out', async () => {
    let runs = 0
    const failures: number[] = []
    class FewExceptions extends ShouldQueue(Listener.for(Ping)) {
      tries = 10
      maxExceptions = 2
      handle() {
        runs++
        throw new Error('boom')
      }
      failed() {
        failures.push(runs)
      }
    }
    app.make('events').listen(Ping, FewExceptions)
    const worker = startWorker()
    await dispatch(new Ping(6))
    await expect.poll(() => failures, { timeout: 10_000 }).toEqual([2])
    await worker?.stop()
    app.make('events').forget(Ping)
  })

  it('a failed job pushed back from failed_jobs runs again', async () => {
    let healthy = false
    const done: number[] = []
    class Recovering extends ShouldQueue(Listener.for(Ping)) {
      handle(event: Ping) {
        if (!healthy) throw new Error('down')
        done.push(event.n)
      }
    }
    app.make('events').listen(Ping, Recovering)
    const worker = startWorker()
    await dispatch(new Ping(7))
    await expect.poll(async () => (await failedRows('Recovering')).length, { timeout: 10_000 }).toBe(1)
    healthy = true
    const [row] = await failedRows('Recovering')
    const store = await app.make('queue').failedJobs()
    const manager = app.make('queue')
    await manager.pushRaw(row!.connection, row!.queue, JSON.stringify({ ...JSON.parse(row!.payload), attempts: 0 })).catch((error: unknown) => {
      if (driver.queue !== 'sync') throw error
    })
    await store.forget(String(row!.id))
    await expect.poll(() => done, { timeout: 10_000 }).toEqual([7])
    await worker?.stop()
    expect(await failedRows('Recovering')).toEqual([])
    app.make('events').forget(Ping)
  })

  it('afterCommit jobs are pushed when DB.transaction commits and dropped on rollback', async () => {
    const done: number[] = []
    class AfterCommit extends ShouldQueue(Listener.for(Ping)) {
      afterCommit = true
      handle(event: Ping) {
        done.push(event.n)
      }
    }
    app.make('events').listen(Ping, AfterCommit)
    const worker = startWorker()
    const db = app.make('db')
    await db.transaction(async () => {
      await dispatch(new Ping(8))
      expect(done).toEqual([])
    })
    await expect.poll(() => done, { timeout: 10_000 }).toEqual([8])
    await expect(
      db.transaction(async () => {
        await dispatch(new Ping(9))
        throw new Error('rollback')
      }),
    ).rejects.toThrow('rollback')
    // The rolled-back job never reaches the queue: a later job runs and 9 is still absent.
    await dispatch(new Ping(10))
    await db.transaction(async () => {})
    await expect.poll(() => done, { timeout: 10_000 }).toEqual([8, 10])
    await worker?.stop()
    app.make('events').forget(Ping)
  })

  if (driver.queue === 'database') {
    it('a job pushed inside DB.transaction is part of it: committed with it, rolled back with it', async () => {
      const done: number[] = []
      class InTransaction extends ShouldQueue(Listener.for(Ping)) {
        handle(event: Ping) {
          done.push(event.n)
        }
      }
      app.make('events').listen(Ping, InTransaction)
      const db = app.make('db')
      await expect(
        db.transaction(async () => {
          await dispatch(new Ping(12))
          throw new Error('rollback')
        }),
      ).rejects.toThrow('rollback')
      await db.transaction(async () => {
        await dispatch(new Ping(13))
      })
      const worker = startWorker()
      await expect.poll(() => done, { timeout: 10_000 }).toEqual([13])
      await worker?.stop()
      app.make('events').forget(Ping)
    })
  }

  if (driver.queue !== 'sync') {
    it('takes jobs from earlier queues first', async () => {
      const order: string[] = []
      class OnLow extends ShouldQueue(Listener.for(Ping)) {
        queue = 'low'
        handle(event: Ping) {
          order.push(`low${event.n}`)
        }
      }
      class OnHigh extends ShouldQueue(Listener.for('priority.high')) {
        queue = 'high'
        handle(payload: unknown) {
          order.push(`high${(payload as { n: number }).n}`)
        }
      }
      const events = app.make('events')
      events.listen(Ping, OnLow)
      events.listen('priority.high', OnHigh)
      for (let n = 1; n <= 3; n++) await dispatch(new Ping(n))
      for (let n = 1; n <= 3; n++) await events.dispatch('priority.high', { n })
      const worker = startWorker(['high', 'low'])
      await expect.poll(() => order.length, { timeout: 10_000 }).toBe(6)
      await worker?.stop()
      expect(order).toEqual(['high1', 'high2', 'high3', 'low1', 'low2', 'low3'])
      events.forget(Ping)
      events.forget('priority.high')
    })

    it('honours the delay', async () => {
      const ran: number[] = []
      class Delayed extends ShouldQueue(Listener.for(Ping)) {
        delay = 0.4
        handle() {
          ran.push(performance.now())
        }
      }
      app.make('events').listen(Ping, Delayed)
      const worker = startWorker()
      const start = performance.now()
      await dispatch(new Ping(11))
      await expect.poll(() => ran.length, { timeout: 10_000 }).toBe(1)
      await worker?.stop()
      expect(ran[0]! - start).toBeGreaterThanOrEqual(390)
      app.make('events').forget(Ping)
    })
  }
})
