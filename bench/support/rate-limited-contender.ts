/**
 * The rate-limited scenario of bench/queue.bench.ts, run in a child process of its own: an
 * application on a bullmq connection (Redis), so the RateLimited counts live in Redis as they
 * would across worker machines. Two job classes do the same trivial work; one has
 * `middleware() { return [new RateLimited('bench')] }` with a limit never hit (1,000,000 a
 * minute per tenant, 4 tenants: a worker takes its counts from Redis 64 at a time). `consume` fills the queue with `count` jobs of one kind (not timed), then
 * times a Herald Worker from its start until the last handle() has run.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Job, Limit, RateLimited, RateLimiter, bootApplication, type Application, type JobMiddleware } from '../../src/index.ts'
import { timeWorker } from './timed-worker.ts'
import { REDIS_URL } from './services.ts'

let sink = 0
let remaining = 0
let allRan: (() => void) | null = null

function ran(): void {
  sink++
  if (allRan !== null && --remaining === 0) {
    const resolve = allRan
    allRan = null
    resolve()
  }
}

class PlainJob extends Job {
  constructor(readonly tenant: number) {
    super()
  }
  handle() {
    ran()
  }
}

class LimitedJob extends PlainJob {
  middleware(): JobMiddleware[] {
    return [new RateLimited('bench')]
  }
}

export interface RateLimitedContender {
  /** Milliseconds and CPU ms for `count` jobs of `kind` at `concurrency`. */
  consume(kind: 'plain' | 'limited', count: number, concurrency: number): Promise<{ ms: number; cpuMs: number }>
  sink(): Promise<number>
  close(): Promise<void>
}

export async function rateLimitedContender(runId: string): Promise<RateLimitedContender> {
  const base = mkdtempSync(join(tmpdir(), 'herald-bench-rl-'))
  const app: Application = await bootApplication({
    basePath: base,
    envFile: false,
    loadConfig: false,
    env: {
      LOG_LEVEL: 'warn',
      EVENTS_DISCOVERY: 'false',
      DB_CONNECTION: 'sqlite',
      DB_DATABASE: join(base, 'database.sqlite'),
      QUEUE_CONNECTION: 'bullmq',
      QUEUE_PREFIX: `${runId}-rl`,
      REDIS_URL,
    },
  })
  app.make('bus').serializable(PlainJob, LimitedJob)
  // An API's limit per customer account, high enough never to be hit here.
  RateLimiter.for('bench', (job: LimitedJob) => Limit.perMinute(1_000_000).by(job.tenant))
  let next = 0
  return {
    async consume(kind, count, concurrency) {
      const JobClass = kind === 'plain' ? PlainJob : LimitedJob
      for (let done = 0; done < count; ) {
        const batch = Math.min(100, count - done)
        await Promise.all(Array.from({ length: batch }, () => JobClass.dispatch(++next & 3)))
        done += batch
      }
      remaining = count
      const finished = new Promise<void>((resolve) => (allRan = resolve))
      return timeWorker(app, 'bullmq', concurrency, finished)
    },
    sink: async () => sink,
    async close() {
      const driver = await app.make('queue').connection('bullmq')
      await driver.clear('default')
      await app.shutdown()
    },
  }
}
