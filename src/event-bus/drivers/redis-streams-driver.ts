import { Redis } from 'ioredis'
import type { Logger } from '../../foundation/logger.ts'
import { errorMessage } from '../../foundation/error-message.ts'
import { ServiceUnreachableError, isConnectionError, safeAddress } from '../../foundation/service-errors.ts'
import type { BusGroup, BusGroupStatus, BusMessage, ConsumeOptions, EventBusDriver } from '../event-bus-driver.ts'
import { GroupReader } from './redis-group-reader.ts'

/** What the Redis Streams driver needs: config/event-bus.ts `redis`, `dedupTtl`, and a logger. */
export interface RedisStreamsContext {
  readonly url: string
  readonly prefix: string
  readonly maxLength: number
  readonly claimIdle: number
  readonly batch: number
  readonly block: number
  readonly dedupTtl: number
  readonly logger: Logger
}

/**
 * The event bus on Redis Streams: one stream per event (`<prefix><EventName>`, trimmed to about
 * `maxLength` entries), one consumer group per subscribing service (its processes share the
 * entries), or per process for a fanout subscription. See {@link GroupReader} for delivery.
 */
export class RedisStreamsDriver implements EventBusDriver {
  private readonly redis: Redis
  private readonly address: string
  private readonly readers = new Set<Redis>()
  private closing: Promise<void> | null = null
  /** Why the publishing connection last failed: what an error names rather than ioredis' retry limit. */
  private lastError: unknown = null

  constructor(private readonly context: RedisStreamsContext) {
    this.address = safeAddress(context.url)
    this.redis = this.connect(1)
  }

  async publish(messages: readonly BusMessage[]): Promise<void> {
    if (messages.length === 0) return
    const pipeline = this.redis.pipeline()
    for (const message of messages) {
      const fields = ['id', message.id, 'name', message.name, 'payload', message.payload, 'at', String(message.publishedAt), 'source', message.source]
      pipeline.xadd(this.streamKey(message.name), 'MAXLEN', '~', this.context.maxLength, '*', ...fields)
    }
    const results = await this.unreachable(pipeline.exec())
    const failed = (results ?? []).find(([error]) => error !== null)
    if (failed !== undefined) throw this.wrap(failed[0])
  }

  async consume(options: ConsumeOptions): Promise<void> {
    for (const group of options.groups) await this.ensureGroup(group)
    options.onReady?.()
    const readers = options.groups.map((group) => {
      const redis = this.connect(null)
      this.readers.add(redis)
      const reader = new GroupReader(group, {
        redis,
        streamKey: (event) => this.streamKey(event),
        seenKey: (name, id) => `${this.context.prefix}seen:${name}:${id}`,
        consumer: options.consumer,
        claimIdle: this.context.claimIdle,
        batch: this.context.batch,
        block: this.context.block,
        dedupTtl: this.context.dedupTtl,
        logger: this.context.logger,
        ensureGroup: (lost) => this.ensureGroup(lost),
      })
      return reader.run(options.signal).finally(async () => {
        if (group.transient) await this.destroyGroup(group.group, group.events)
        this.readers.delete(redis)
        redis.disconnect()
      })
    })
    await Promise.all(readers)
  }

  async status(): Promise<BusGroupStatus[]> {
    const rows: BusGroupStatus[] = []
    let cursor = '0'
    const keys: string[] = []
    do {
      const [next, found] = await this.unreachable(this.redis.scan(cursor, 'MATCH', `${escapeGlob(this.context.prefix)}*`, 'COUNT', 500, 'TYPE', 'stream'))
      cursor = next
      keys.push(...found)
    } while (cursor !== '0')
    for (const stream of keys.sort()) {
      const length = await this.redis.xlen(stream)
      const groups = (await this.redis.xinfo('GROUPS', stream)) as unknown[][]
      for (const fields of groups) {
        const info = pairs(fields)
        rows.push({
          stream,
          length,
          group: String(info.get('name')),
          consumers: Number(info.get('consumers') ?? 0),
          pending: Number(info.get('pending') ?? 0),
          lag: info.get('lag') === null || info.get('lag') === undefined ? null : Number(info.get('lag')),
        })
      }
    }
    return rows
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const reader of this.readers) reader.disconnect()
      // quit() on a connection that is not up would wait for it.
      if (this.redis.status !== 'ready') return this.redis.disconnect()
      try {
        await this.redis.quit()
      } catch {
        this.redis.disconnect()
      }
    })()
    return this.closing
  }

  /** Creates the group on each of its streams, from new entries on; one that exists is kept. */
  private async ensureGroup(group: BusGroup): Promise<void> {
    for (const event of group.events) {
      try {
        await this.unreachable(this.redis.xgroup('CREATE', this.streamKey(event), group.group, '$', 'MKSTREAM'))
      } catch (error) {
        if (!errorMessage(error).includes('BUSYGROUP')) throw error
      }
    }
  }

  private streamKey(event: string): string {
    return `${this.context.prefix}${event}`
  }

  private async destroyGroup(group: string, events: readonly string[]): Promise<void> {
    for (const event of events) {
      try {
        await this.redis.xgroup('DESTROY', this.streamKey(event), group)
      } catch (error) {
        this.context.logger.debug(`Event bus: could not remove group "${group}": ${errorMessage(error)}`)
      }
    }
  }

  /**
   * A connection: `retries` null waits out an outage (the readers, which retry on their own);
   * a number fails a command after that many reconnection tries (publishing, which the outbox
   * retries).
   */
  private connect(retries: number | null): Redis {
    // The publisher retries soon, so a publish during an outage fails within about a second
    // (and goes to the outbox); the readers back off further.
    const ceiling = retries === null ? 2_000 : 500
    const redis = new Redis(this.context.url, {
      maxRetriesPerRequest: retries,
      connectTimeout: 5_000,
      retryStrategy: (times) => Math.min(ceiling, 100 * 2 ** Math.min(times, 5)),
    })
    redis.on('error', (error: unknown) => {
      if (retries !== null) this.lastError = error
      this.context.logger.debug(`Event bus Redis (${this.address}): ${errorMessage(error)}`)
    })
    return redis
  }

  private async unreachable<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise
    } catch (error) {
      throw this.wrap(error)
    }
  }

  private wrap(error: unknown): unknown {
    if (errorMessage(error).includes('max retries')) return new ServiceUnreachableError('Redis', this.address, this.lastError ?? error)
    return isConnectionError(error) ? new ServiceUnreachableError('Redis', this.address, error) : error
  }
}

function pairs(fields: readonly unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>()
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), fields[i + 1])
  return map
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
