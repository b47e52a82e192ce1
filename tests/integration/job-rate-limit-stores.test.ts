/**
 * The counters of job middleware on each store rate-limiter-flexible gives them: PostgreSQL,
 * MariaDB and SQLite (on the app's knex connection, the table made on first use), Redis, and
 * memory. Two JobRateLimits instances stand for two worker processes: on a shared store they
 * see one count; a window ends on time.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { DatabaseManager } from '../../src/database/database-manager.ts'
import type { QueueConfig, QueueLimiterConfig } from '../../src/foundation/config.ts'
import { JobRateLimits } from '../../src/jobs/middleware/rate-limit-store.ts'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const cases: Array<{ name: string; db: Dialect; limiter: QueueLimiterConfig }> = [
  { name: 'PostgreSQL', db: 'pgsql', limiter: { store: 'database', table: 'rate_limits' } },
  { name: 'MariaDB', db: 'mysql', limiter: { store: 'database', table: 'rate_limits' } },
  { name: 'SQLite', db: 'sqlite', limiter: { store: 'database' } },
  { name: 'Redis', db: 'sqlite', limiter: { store: 'redis', url: REDIS_URL, prefix: `limits-test-${process.pid}-${Date.now()}` } },
]

describe.each(cases.map((c) => [c.name, c] as const))('job rate limit store: %s', (_name, c) => {
  const opened: Array<{ limits: JobRateLimits; db: DatabaseManager }> = []
  let database: FreshDatabase

  function instance(): JobRateLimits {
    const db = new DatabaseManager({ default: 'main', connections: { main: database.connection } }, process.cwd())
    const queue: QueueConfig = { default: 'database', connections: { database: { driver: 'database', table: 'jobs', queue: 'default' } }, failed: { table: 'failed_jobs' }, limiter: c.limiter }
    const limits = new JobRateLimits({ queue, database: () => db })
    opened.push({ limits, db })
    return limits
  }

  afterAll(async () => {
    for (const { limits, db } of opened) {
      await limits.close()
      await db.close()
    }
    await database?.drop()
  })

  it('two instances share one count; the window ends on time; clear forgets it', async () => {
    database = await freshDatabase(c.db)
    const [a, b] = [instance(), instance()]
    const results = []
    for (const limits of [a, b, a, b]) results.push(await limits.hit('database', 'uploads:user-1', 3, 1))
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false])
    expect(results[3]!.msBeforeNext).toBeGreaterThan(0)
    expect(results[3]!.msBeforeNext).toBeLessThanOrEqual(1_000)
    // Another key has its own count.
    expect((await b.hit('database', 'uploads:user-2', 3, 1)).allowed).toBe(true)
    expect((await a.peek('database', 'uploads:user-1', 3, 1)).allowed).toBe(false)
    await expect.poll(async () => (await b.hit('database', 'uploads:user-1', 3, 1)).allowed, { timeout: 3_000, interval: 50 }).toBe(true)
    await a.clear('database', 'uploads:user-1', 3, 1)
    expect((await b.peek('database', 'uploads:user-1', 3, 1)).consumed).toBe(0)
    // A busy limit (200 or more) is taken from the store in shares: still never more than max in a window.
    let allowed = 0
    for (let round = 0; round < 70; round++) {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => [a, b][i % 2]!.hit('database', 'busy', 605, 60)))
      allowed += results.filter((result) => result.allowed).length
    }
    expect(allowed).toBe(605)
    // A key too long for the table's column is stored hashed.
    expect((await a.hit('database', `uploads:${'x'.repeat(400)}`, 1, 60)).allowed).toBe(true)
    expect((await b.hit('database', `uploads:${'x'.repeat(400)}`, 1, 60)).allowed).toBe(false)
  })
})

describe('job rate limit store: choosing the store', () => {
  it('follows queue.limiter.store, else the connection: bullmq → its Redis, database → its database, sync → the default connection', () => {
    const db = new DatabaseManager({ default: 'main', connections: { main: { driver: 'sqlite', filename: ':memory:' } } }, process.cwd())
    const connections: QueueConfig['connections'] = {
      database: { driver: 'database', table: 'jobs', queue: 'default', database: 'jobsdb' },
      redis: { driver: 'bullmq', url: 'redis://10.0.0.1:6379', queue: 'default', prefix: 'app' },
      sync: { driver: 'sync' },
    }
    const make = (limiter: QueueLimiterConfig | undefined, fallback = 'redis') =>
      new JobRateLimits({ queue: { default: fallback, connections, failed: { table: 'failed_jobs' }, ...(limiter ? { limiter } : {}) }, database: () => db })
    const byConnection = make(undefined)
    expect(byConnection.place('redis')).toEqual({ store: 'redis', url: 'redis://10.0.0.1:6379', prefix: 'app' })
    expect(byConnection.place('database')).toEqual({ store: 'database', connection: 'jobsdb' })
    expect(byConnection.place('sync')).toEqual({ store: 'redis', url: 'redis://10.0.0.1:6379', prefix: 'app' })
    expect(make(undefined, 'sync').place('sync')).toEqual({ store: 'database', connection: 'main' })
    expect(make({ store: 'memory' }).place('redis')).toEqual({ store: 'memory' })
    expect(make({ store: 'database' }).place('redis')).toEqual({ store: 'database', connection: 'main' })
    expect(make({ store: 'redis', url: 'redis://cache:6379', prefix: 'x' }).place('database')).toEqual({ store: 'redis', url: 'redis://cache:6379', prefix: 'x' })
  })

  it('memory counts in this process only', async () => {
    const db = new DatabaseManager({ default: 'main', connections: { main: { driver: 'sqlite', filename: ':memory:' } } }, process.cwd())
    const queue: QueueConfig = { default: 'sync', connections: { sync: { driver: 'sync' } }, failed: { table: 'failed_jobs' }, limiter: { store: 'memory' } }
    const [a, b] = [new JobRateLimits({ queue, database: () => db }), new JobRateLimits({ queue, database: () => db })]
    expect((await a.hit('sync', 'k', 1, 60)).allowed).toBe(true)
    expect((await a.hit('sync', 'k', 1, 60)).allowed).toBe(false)
    expect((await b.hit('sync', 'k', 1, 60)).allowed).toBe(true)
  })
})
