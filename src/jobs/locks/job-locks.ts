import type { DatabaseManager } from '../../database/database-manager.ts'
import type { QueueConnectionConfig } from '../../foundation/config.ts'
import type { Logger } from '../../foundation/logger.ts'
import { errorMessage } from '../../foundation/error-message.ts'
import type { QueueManager } from '../../queue/queue-manager.ts'
import { DatabaseLockStore } from './database-lock-store.ts'
import { MemoryLockStore, type LockStore } from './lock-store.ts'
import type { RedisLockStore } from './redis-lock-store.ts'

/** Where a connection's locks live, and what their keys start with. */
export interface LockPlace {
  readonly store: LockStore
  /** `herald`, or the bullmq connection's `prefix` (QUEUE_PREFIX), so apps sharing a Redis keep apart. */
  readonly prefix: string
}

export interface JobLocksDependencies {
  readonly queue: () => QueueManager
  readonly database: () => DatabaseManager
  readonly logger: () => Logger
}

/** The key prefix of locks kept in the database. */
const DATABASE_PREFIX = 'herald'

/**
 * Picks the lock store of a job by its queue connection's driver, as DESIGN.md asks of locks
 * that must hold across machines: a **bullmq** connection's jobs lock in Redis (that
 * connection's `url`, keys under its `prefix`), a **database** connection's in the
 * `cache_locks` table of that connection's database, and a **sync** connection's (and a
 * connection name config/queue.ts does not know, as `dispatchSync`'s `sync`) in the default
 * database's. Stores are made on first use and shared by connections that point at the same
 * place. Under `Queue.fake()` unique locks live in memory, for the fake's life.
 */
export class JobLocks {
  private readonly stores = new Map<string, LockStore>()
  private readonly redis = new Map<string, Promise<RedisLockStore>>()
  private readonly fakes = new WeakMap<object, MemoryLockStore>()

  constructor(private readonly deps: JobLocksDependencies) {}

  /** The store and key prefix for jobs of queue connection `connection`. */
  async forConnection(connection: string): Promise<LockPlace> {
    const settings = this.settings(connection)
    if (settings?.driver === 'bullmq') {
      let store = this.redis.get(settings.url)
      if (store === undefined) {
        store = import('./redis-lock-store.ts').then(({ RedisLockStore }) => new RedisLockStore(settings.url, this.deps.logger()))
        this.redis.set(settings.url, store)
      }
      return { store: await store, prefix: settings.prefix }
    }
    const database = settings?.driver === 'database' ? settings.database : undefined
    const id = `database:${database ?? ''}`
    let store = this.stores.get(id)
    if (store === undefined) {
      store = new DatabaseLockStore(this.deps.database(), database)
      this.stores.set(id, store)
    }
    return { store, prefix: DATABASE_PREFIX }
  }

  /** The memory store of the installed `Queue.fake()`, or null when the queue is not faked. */
  faked(): LockPlace | null {
    const fake = this.deps.queue().currentInterceptor
    if (fake === null) return null
    let store = this.fakes.get(fake)
    if (store === undefined) {
      store = new MemoryLockStore()
      this.fakes.set(fake, store)
    }
    return { store, prefix: DATABASE_PREFIX }
  }

  /** Closes the Redis connections opened; each on its own, so one failure does not keep the others open. */
  async close(): Promise<void> {
    const opened = [...this.redis.values()]
    this.redis.clear()
    this.stores.clear()
    for (const store of opened) {
      try {
        await (await store).close()
      } catch (error) {
        this.deps.logger().warn(`Closing a Redis lock connection failed: ${errorMessage(error)}`)
      }
    }
  }

  private settings(connection: string): QueueConnectionConfig | undefined {
    try {
      return this.deps.queue().settings(connection)
    } catch {
      return undefined
    }
  }
}

/** @internal Where the jobs layer puts the application's JobLocks on a job a worker runs (for WithoutOverlapping). */
export const JOB_LOCKS = Symbol.for('herald.jobLocks')

let fallback: JobLocks | null = null

/** @internal The JobLocks of the application booted last: for jobs run without a worker (dispatchSync). */
export function setDefaultJobLocks(locks: JobLocks | null, only?: JobLocks): void {
  if (only === undefined || fallback === only) fallback = locks
}

/** The JobLocks a running job's middleware should use. */
export function jobLocksOf(job: object): JobLocks {
  const locks = (job as Record<symbol, JobLocks | undefined>)[JOB_LOCKS] ?? fallback
  if (locks == null) throw new Error('Job locks need an application: boot one (bootApplication) with the JobsServiceProvider.')
  return locks
}
