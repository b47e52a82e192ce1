import { Redis } from 'ioredis'
import type { Logger } from '../../foundation/logger.ts'
import { errorMessage } from '../../foundation/error-message.ts'
import { ServiceUnreachableError, isConnectionError, safeAddress } from '../../foundation/service-errors.ts'
import type { LockStore } from './lock-store.ts'

/** Deletes the key only if it still holds the owner's token: no one releases another's lock. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`

/**
 * Locks in Redis, for the bullmq queue connections: `SET key owner NX PX ttl` takes a lock, a
 * Lua script that compares the owner before deleting releases it, Redis expires it. Loaded only
 * when a job on a bullmq connection needs a lock, so nothing else pays for ioredis.
 */
export class RedisLockStore implements LockStore {
  private readonly redis: Redis
  private readonly address: string

  constructor(url: string, logger: Logger) {
    this.address = safeAddress(url)
    // A few tries, then the command fails: a dispatch against a dead Redis rejects, it does not hang.
    this.redis = new Redis(url, { maxRetriesPerRequest: 4, connectTimeout: 5_000, retryStrategy: (times) => Math.min(100 * 2 ** times, 2_000) })
    this.redis.on('error', (error: unknown) => logger.debug(`Redis lock connection (${this.address}): ${errorMessage(error)}`))
  }

  async acquire(key: string, owner: string, ttlSeconds: number): Promise<boolean> {
    const reply = await this.command(() =>
      ttlSeconds > 0 ? this.redis.set(key, owner, 'PX', Math.max(1, Math.round(ttlSeconds * 1000)), 'NX') : this.redis.set(key, owner, 'NX'),
    )
    return reply === 'OK'
  }

  async release(key: string, owner: string): Promise<boolean> {
    return (await this.command(() => this.redis.eval(RELEASE, 1, key, owner))) === 1
  }

  async forceRelease(key: string): Promise<void> {
    await this.command(() => this.redis.del(key))
  }

  async owner(key: string): Promise<string | null> {
    return this.command(() => this.redis.get(key))
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return
    try {
      if (this.redis.status === 'ready') await this.redis.quit()
      else this.redis.disconnect()
    } catch {
      this.redis.disconnect()
    }
  }

  private async command<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (isConnectionError(error)) throw new ServiceUnreachableError('Redis', this.address, error)
      throw error
    }
  }
}
