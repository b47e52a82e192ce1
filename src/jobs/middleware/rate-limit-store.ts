import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import type { DatabaseManager } from '../../database/database-manager.ts'
import type { QueueConfig, QueueLimiterConfig } from '../../foundation/config.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/** A share of a busy limit's window this process took from the store. */
interface Reserve {
  left: number
  /** Epoch ms: the window's end, when the share is void. */
  until: number
  /** The share being taken, resolving to the denial when the window was full. */
  taking: Promise<CountResult | null> | null
}

/** Where a job's counts live, as chosen for its connection. */
type Place = { readonly store: 'redis'; readonly url: string; readonly prefix: string } | { readonly store: 'database'; readonly connection: string } | { readonly store: 'memory' }

export interface JobRateLimitsDependencies {
  readonly queue: QueueConfig
  readonly database: () => DatabaseManager
}

/** What a count said: whether the job had room, and how long until the window ends. */
export interface CountResult {
  readonly allowed: boolean
  /** Milliseconds until the count starts again (0 when no window is open). */
  readonly msBeforeNext: number
  readonly consumed: number
}

/** The most counts a process takes from the store at once for one key. */
const MAX_SHARE = 64
/** Keys with a share kept at once; past it the spent and expired ones are dropped. */
const MAX_RESERVES = 10_000

/** The longest key the database stores keep as written (their column is varchar(255)). */
const MAX_KEY = 180

/**
 * The counters of job middleware (`RateLimited`, `ThrottlesExceptions`) for one application, on
 * rate-limiter-flexible: Redis (RateLimiterRedis on ioredis), the database (RateLimiterPostgres,
 * RateLimiterMySQL, RateLimiterSQLite on the app's knex connection; the table is created on
 * first use), or memory. The store follows `queue.limiter.store`, else the job's connection:
 * bullmq → that connection's Redis and prefix; database → its database; sync (and dispatchSync)
 * → as the default connection, or the default database.
 */
export class JobRateLimits {
  private readonly limiters = new Map<string, Promise<RateLimiterAbstract>>()
  /** The shares of busy limits this process took from the store and has not handed out yet. */
  private readonly reserves = new Map<string, Reserve>()
  private readonly redis = new Map<string, Redis>()
  private readonly config: QueueLimiterConfig

  constructor(private readonly deps: JobRateLimitsDependencies) {
    this.config = deps.queue.limiter ?? {}
  }

  /**
   * Counts one job against `max` per `seconds` under `key`. A limit of 200 or more takes a share
   * of its window from the store at once (1% of it, at most 64) and hands it out here, so a busy
   * limit costs one round trip per share instead of one per job; the store never grants more
   * than `max` in a window, but a share this process does not use (it stops, or its jobs dry up)
   * is lost to the others until the window ends.
   */
  async hit(connection: string, key: string, max: number, seconds: number): Promise<CountResult> {
    const share = max >= 200 ? Math.min(MAX_SHARE, Math.floor(max / 100)) : 1
    if (share === 1) return this.add(connection, key, max, seconds)
    const id = reserveId(connection, key, max, seconds)
    for (;;) {
      let reserve = this.reserves.get(id)
      const now = Date.now()
      if (reserve !== undefined && reserve.left > 0 && now < reserve.until) {
        reserve.left--
        return { allowed: true, msBeforeNext: reserve.until - now, consumed: -1 }
      }
      // Jobs arriving side by side wait for one share instead of each taking one.
      if (reserve?.taking) {
        const denied = await reserve.taking
        if (denied !== null) return denied
        continue
      }
      if (reserve === undefined) {
        reserve = { left: 0, until: 0, taking: null }
        this.keep(id, reserve)
      }
      const entry = reserve
      let mine: CountResult | null = null
      entry.taking = this.take(connection, key, max, seconds, share).then(
        ({ granted, result }) => {
          entry.taking = null
          if (granted === 0) return result
          // This job takes the first count of the share; the rest wait here for the others.
          entry.left = granted - 1
          entry.until = Date.now() + result.msBeforeNext
          mine = { ...result, allowed: true }
          return null
        },
        (error: unknown) => {
          entry.taking = null
          throw error
        },
      )
      const denied = await entry.taking
      return denied ?? mine!
    }
  }

  /** Adds one to the count under `key`, in the store itself (no shares: `peek` must see every count). */
  async add(connection: string, key: string, max: number, seconds: number): Promise<CountResult> {
    const taken = await this.take(connection, key, max, seconds, 1)
    return taken.granted === 0 ? taken.result : { ...taken.result, allowed: true }
  }

  /**
   * Takes `share` counts from the store (or what is left of the window, the excess given back);
   * `granted` 0 when the window is full.
   */
  private async take(connection: string, key: string, max: number, seconds: number, share: number): Promise<{ granted: number; result: CountResult }> {
    const limiter = await this.limiter(connection, max, seconds)
    const stored = storedKey(key)
    try {
      const res = await limiter.consume(stored, share)
      return { granted: share, result: { allowed: true, msBeforeNext: Math.max(res.msBeforeNext, 0), consumed: res.consumedPoints } }
    } catch (rejection) {
      if (!isLimiterRes(rejection)) throw new Error(`Counting rate limit "${key}" failed: ${errorMessage(rejection)}`, { cause: rejection })
      const granted = Math.max(0, max - (rejection.consumedPoints - share))
      // The count went past max by this share: what was left of the window is ours, the excess goes back.
      if (share > 1 && granted > 0) await limiter.reward(stored, rejection.consumedPoints - max)
      return { granted, result: { allowed: false, msBeforeNext: Math.max(rejection.msBeforeNext, 0), consumed: rejection.consumedPoints } }
    }
  }

  private keep(id: string, reserve: Reserve): void {
    if (this.reserves.size >= MAX_RESERVES) {
      const now = Date.now()
      for (const [other, kept] of this.reserves) if (kept.taking === null && (kept.until <= now || kept.left === 0)) this.reserves.delete(other)
    }
    this.reserves.set(id, reserve)
  }

  /** The count under `key` now, without adding to it. */
  async peek(connection: string, key: string, max: number, seconds: number): Promise<CountResult> {
    const limiter = await this.limiter(connection, max, seconds)
    const res = await limiter.get(storedKey(key))
    if (res === null) return { allowed: true, msBeforeNext: 0, consumed: 0 }
    return { allowed: res.consumedPoints < max, msBeforeNext: Math.max(res.msBeforeNext, 0), consumed: res.consumedPoints }
  }

  /** Takes back one count under `key` (a job counted by one limit, then stopped by the next). */
  async giveBack(connection: string, key: string, max: number, seconds: number): Promise<void> {
    const reserve = max >= 200 ? this.reserves.get(reserveId(connection, key, max, seconds)) : undefined
    if (reserve !== undefined && Date.now() < reserve.until) {
      reserve.left++
      return
    }
    const limiter = await this.limiter(connection, max, seconds)
    await limiter.reward(storedKey(key))
  }

  /** Forgets the count under `key`. */
  async clear(connection: string, key: string, max: number, seconds: number): Promise<void> {
    const limiter = await this.limiter(connection, max, seconds)
    await limiter.delete(storedKey(key))
  }

  /** Closes the Redis connections it opened (the database ones are the app's). */
  async close(): Promise<void> {
    const clients = [...this.redis.values()]
    this.redis.clear()
    this.limiters.clear()
    this.reserves.clear()
    for (const client of clients) {
      try {
        await client.quit()
      } catch {
        client.disconnect()
      }
    }
  }

  /** Where the counts of a job on `connection` live. */
  place(connection: string): Place {
    const store = this.config.store
    const redisPlace = (): Place => ({ store: 'redis', url: this.config.url ?? 'redis://127.0.0.1:6379', prefix: this.config.prefix ?? 'herald' })
    if (store === 'memory') return { store: 'memory' }
    if (store === 'redis') return redisPlace()
    const databasePlace = (name?: string): Place => ({ store: 'database', connection: this.config.database ?? name ?? this.deps.database().defaultConnection })
    if (store === 'database') return databasePlace()
    const queue = this.deps.queue
    let settings = queue.connections[connection]
    if (settings === undefined || settings.driver === 'sync') settings = queue.connections[queue.default]
    if (settings?.driver === 'bullmq') return { store: 'redis', url: settings.url, prefix: settings.prefix }
    return databasePlace(settings?.driver === 'database' ? settings.database : undefined)
  }

  private limiter(connection: string, max: number, seconds: number): Promise<RateLimiterAbstract> {
    const place = this.place(connection)
    const id = `${JSON.stringify(place)}|${max}|${seconds}`
    let limiter = this.limiters.get(id)
    if (limiter === undefined) {
      limiter = this.create(place, max, seconds)
      this.limiters.set(id, limiter)
      limiter.catch(() => this.limiters.delete(id))
    }
    return limiter
  }

  private async create(place: Place, points: number, duration: number): Promise<RateLimiterAbstract> {
    const flexible = await import('rate-limiter-flexible')
    // One key space per limit shape: a per-minute and a per-day limit on the same key never share a count.
    const keyPrefix = `limit:${points}:${duration}`
    if (place.store === 'memory') return new flexible.RateLimiterMemory({ points, duration, keyPrefix })
    if (place.store === 'redis') {
      return new flexible.RateLimiterRedis({ storeClient: await this.redisClient(place.url), points, duration, keyPrefix: `${place.prefix}:${keyPrefix}` })
    }
    const db = this.deps.database()
    const knex = await db.connection(place.connection)
    const tableName = this.config.table ?? 'rate_limits'
    const driver = db.driver(place.connection)
    const options = { storeClient: knex, storeType: 'knex', tableName, points, duration, keyPrefix }
    return new Promise<RateLimiterAbstract>((resolve, reject) => {
      const done = (error?: unknown) => {
        if (error) reject(new Error(`The rate limit table "${tableName}" could not be created on the ${driver} connection "${place.connection}": ${errorMessage(error)}`))
        else resolve(limiter)
      }
      // The callback runs once the table exists (never synchronously: tableCreated is false).
      const limiter: RateLimiterAbstract =
        driver === 'pgsql'
          ? new flexible.RateLimiterPostgres(options, done)
          : driver === 'mysql'
            ? new flexible.RateLimiterMySQL({ ...options, dbName: databaseName(knex) }, done)
            : new flexible.RateLimiterSQLite(options, done)
    })
  }

  private async redisClient(url: string): Promise<Redis> {
    let client = this.redis.get(url)
    if (client === undefined) {
      const { Redis } = await import('ioredis')
      // Auto-pipelining puts the counts of jobs running side by side in one round trip.
      client = this.redis.get(url) ?? new Redis(url, { enableAutoPipelining: true, lazyConnect: false })
      client.on('error', () => {})
      this.redis.set(url, client)
    }
    return client
  }
}

/** A key as stored: long ones (a limiter name and a long `by(...)`) are hashed to fit the database stores' column. */
function storedKey(key: string): string {
  return key.length <= MAX_KEY ? key : `sha1:${createHash('sha1').update(key).digest('hex')}`
}

function reserveId(connection: string, key: string, max: number, seconds: number): string {
  return `${connection}\u0000${key}\u0000${max}\u0000${seconds}`
}

function isLimiterRes(value: unknown): value is { msBeforeNext: number; consumedPoints: number } {
  return value !== null && typeof value === 'object' && !(value instanceof Error) && typeof (value as { msBeforeNext?: unknown }).msBeforeNext === 'number'
}

function databaseName(knex: { client: { config: { connection?: unknown } } }): string {
  const connection = knex.client.config.connection as { database?: unknown } | undefined
  if (typeof connection?.database !== 'string') throw new Error('The MySQL rate limit store needs the connection’s database name in config/database.ts.')
  return connection.database
}

let current: JobRateLimits | null = null

/** @internal The booted application's counters (JobsServiceProvider installs them). */
export function useRateLimits(limits: JobRateLimits | null): void {
  current = limits
}

/** The counters job middleware uses; an error naming the fix without a booted application. */
export function rateLimits(): JobRateLimits {
  if (current === null) throw new Error('Rate-limited job middleware needs an application: boot one (bootApplication) before running jobs.')
  return current
}

/** @internal The counters installed now, if any (for the provider's shutdown). */
export function installedRateLimits(): JobRateLimits | null {
  return current
}
