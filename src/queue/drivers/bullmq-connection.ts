import { Redis } from 'ioredis'
import type { Logger } from '../../foundation/logger.ts'
import { ServiceUnreachableError, safeAddress } from '../../foundation/service-errors.ts'
import { reconnectDelay } from '../reconnect.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/**
 * How long a command waits for a connection that is not (yet) up before it fails with a
 * ServiceUnreachableError: long enough to ride out a Redis restart, short enough that a
 * dispatch or `queue:monitor` against a dead Redis answers at once rather than hanging.
 */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000

/** ioredis' reconnection waits: capped and jittered, so many workers do not stampede a Redis coming back. */
const RECONNECT = { maxDisconnected: 0, baseDelay: 100, maxDelay: 2_000 }

export interface RedisLinkOptions {
  /**
   * null: commands wait for the connection however long it is down (BullMQ requires it of its
   * Workers' connections); a number: they fail after that many reconnection tries.
   */
  readonly maxRetriesPerRequest: number | null
  /** What the connection is for, in debug lines. */
  readonly label: string
}

/**
 * One ioredis connection that remembers why it last failed, so errors name Redis and its
 * address (never its password) with the real cause (`connect ECONNREFUSED …`) rather than
 * ioredis' `Reached the max retries per request limit`.
 */
export class RedisLink {
  readonly redis: Redis
  /** `redis://host:port`, without credentials. */
  readonly address: string
  private lastError: unknown = null
  /** Resolved when the connection next closes; one shared promise, so waiters add no listeners. */
  private down: { promise: Promise<undefined>; resolve: () => void } | null = null

  constructor(url: string, options: RedisLinkOptions, logger: Logger) {
    this.address = safeAddress(url)
    this.redis = new Redis(url, {
      maxRetriesPerRequest: options.maxRetriesPerRequest,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      retryStrategy: (times) => reconnectDelay(times, RECONNECT),
    })
    this.redis.on('error', (error: unknown) => {
      this.lastError = error
      logger.debug(`Redis ${options.label} connection (${this.address}): ${errorMessage(error)}`)
    })
    this.redis.on('close', () => {
      const down = this.down
      this.down = null
      down?.resolve()
    })
  }

  /** Resolves (to undefined) when the connection is lost: at once if it is not up now. */
  whenDown(): Promise<undefined> {
    if (!this.connected) return Promise.resolve(undefined)
    if (this.down === null) {
      let resolve!: () => void
      const promise = new Promise<undefined>((done) => (resolve = () => done(undefined)))
      this.down = { promise, resolve }
    }
    return this.down.promise
  }

  get connected(): boolean {
    return this.redis.status === 'ready'
  }

  /** Resolves true once the connection is ready, false after `ms` or when `signal` aborts. */
  waitReady(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.connected) return Promise.resolve(true)
    if (signal?.aborted) return Promise.resolve(false)
    return new Promise((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer)
        this.redis.off('ready', onReady)
        signal?.removeEventListener('abort', onAbort)
        resolve(ready)
      }
      const onReady = () => done(true)
      const onAbort = () => done(false)
      const timer = setTimeout(() => done(this.connected), ms)
      this.redis.on('ready', onReady)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** The error to report: Redis, its address, and the connection's own last failure when known. */
  unreachable(cause?: unknown): ServiceUnreachableError {
    const reason = this.lastError ?? cause ?? new Error(`no connection within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s`)
    return new ServiceUnreachableError('Redis', this.address, reason)
  }

  /** QUIT when connected (bounded), else drop the socket: a QUIT to a dead Redis would wait forever. */
  async close(): Promise<void> {
    if (this.redis.status === 'end') return
    if (this.connected) {
      const quit = this.redis.quit().then(
        () => true,
        () => false,
      )
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 2_000)))
      const clean = await Promise.race([quit, timedOut])
      clearTimeout(timer)
      if (clean) return
    }
    this.redis.disconnect()
  }
}
