/**
 * The batch scenario of bench/queue.bench.ts. One process (the `batch-filler` role) creates a
 * PostgreSQL database of its own (the job_batches table and, for the database connection, the
 * jobs table, by the project's migrations) and fills the queue: `count` TickJobs pushed one by
 * one, or one `Bus.batch([...count TickJobs])`. Four worker processes (the `batch-worker` role)
 * boot the same application and run a Herald Worker each when told; each counts its handle()
 * runs. The parent times from the start signal until every job has run, then checks the counts:
 * every job once, and for a batch, job_batches' pending 0, failed 0, total `count`.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import knexFactory from 'knex'
import { Bus, Job, Migrator, bootApplication, type Application } from '../../src/index.ts'
import { Worker } from '../../src/queue/worker.ts'
import { PG, REDIS_URL } from './services.ts'

const MIGRATIONS = fileURLToPath(new URL('../../database/migrations', import.meta.url))
const PUSH_WINDOW = 100

let ran = 0

export class BatchTick extends Job {
  constructor(readonly n: number) {
    super()
  }
  handle() {
    ran++
  }
}

export type BatchConnection = 'bullmq' | 'database'

function databaseName(runId: string): string {
  return `${runId}_batch`.toLowerCase()
}

async function boot(runId: string, connection: BatchConnection): Promise<Application> {
  const base = mkdtempSync(join(tmpdir(), 'herald-bench-batch-'))
  const app = await bootApplication({
    basePath: base,
    envFile: false,
    loadConfig: false,
    env: {
      LOG_LEVEL: 'warn',
      EVENTS_DISCOVERY: 'false',
      DB_CONNECTION: 'pgsql',
      DB_HOST: PG.host,
      DB_PORT: String(PG.port),
      DB_USERNAME: PG.user,
      DB_PASSWORD: PG.password,
      DB_DATABASE: databaseName(runId),
      QUEUE_CONNECTION: connection,
      QUEUE_PREFIX: `${runId}-batch`,
      REDIS_URL,
    },
  })
  app.make('bus').serializable(BatchTick)
  return app
}

/** The filling process: makes the database, pushes plain jobs or one batch, reads the batch's counts. */
export function batchFiller(runId: string, connection: BatchConnection) {
  const admin = () => knexFactory({ client: 'pg', connection: PG, pool: { min: 0, max: 1 } })
  let app: Application | null = null
  return {
    async setUp(): Promise<void> {
      const setup = admin()
      await setup.raw('create database ??', [databaseName(runId)]).finally(() => setup.destroy())
      app = await boot(runId, connection)
      await new Migrator(await app.make('db').connection(), MIGRATIONS).latest()
    },
    /** Pushes `count` jobs (plain) or one batch of them; resolves to the batch id ('' for plain). */
    async fill(kind: 'plain' | 'batch', count: number): Promise<string> {
      if (kind === 'batch') return (await Bus.batch(Array.from({ length: count }, (_, n) => new BatchTick(n))).name('bench').dispatch()).id
      const inFlight = new Set<Promise<unknown>>()
      for (let n = 0; n < count; n++) {
        const pushing: Promise<unknown> = BatchTick.dispatch(n).then(() => inFlight.delete(pushing))
        inFlight.add(pushing)
        if (inFlight.size >= PUSH_WINDOW) await Promise.race(inFlight)
      }
      await Promise.all(inFlight)
      return ''
    },
    async counts(id: string): Promise<{ total: number; pending: number; failed: number; finished: boolean }> {
      const batch = await Bus.findBatch(id)
      if (batch === null) throw new Error(`batch ${id} is not in job_batches`)
      return { total: batch.totalJobs, pending: batch.pendingJobs, failed: batch.failedJobs, finished: batch.finished }
    },
    async close(): Promise<void> {
      if (app !== null) {
        await (await app.make('queue').connection(connection)).clear('default')
        await app.shutdown()
      }
      const teardown = admin()
      await teardown.raw('drop database if exists ?? with (force)', [databaseName(runId)]).finally(() => teardown.destroy())
    },
  }
}

/** A worker process: boots the application, runs a Worker on `work()`, counts handle() runs. */
export function batchWorker(runId: string, connection: BatchConnection) {
  let app: Application | null = null
  let worker: Worker | null = null
  return {
    async boot(): Promise<void> {
      app = await boot(runId, connection)
    },
    async work(): Promise<void> {
      ran = 0
      worker = new Worker(app!.make('queue'), {
        connection,
        queues: ['default'],
        concurrency: 10,
        defaults: { tries: 1, backoff: 0, timeout: 60 },
        sleep: 0.05,
        stopWhenEmpty: false,
        maxJobs: 0,
        maxTime: 0,
        memory: 1024,
      })
      void worker.run()
    },
    ran: async (): Promise<number> => ran,
    async stop(): Promise<void> {
      await worker?.stop()
      worker = null
    },
    async close(): Promise<void> {
      await worker?.stop()
      await app?.shutdown()
    },
  }
}
