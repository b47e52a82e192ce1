import type { Redis } from 'ioredis'
import type { Logger } from '../../foundation/logger.ts'
import { errorMessage } from '../../foundation/error-message.ts'
import type { BusGroup, BusMessage } from '../event-bus-driver.ts'

/** What one group's reader needs of its driver. */
export interface GroupReaderContext {
  /** A connection of its own: XREADGROUP BLOCK holds it. */
  readonly redis: Redis
  readonly streamKey: (event: string) => string
  readonly seenKey: (group: string, id: string) => string
  readonly consumer: string
  readonly claimIdle: number
  readonly batch: number
  readonly block: number
  /** Seconds a handled id is remembered. */
  readonly dedupTtl: number
  readonly logger: Logger
  /** Creates the group on each stream again (XGROUP CREATE … MKSTREAM): after the streams were deleted, or Redis restarted empty. */
  readonly ensureGroup: (group: BusGroup) => Promise<void>
}

type Entry = [id: string, fields: string[]]

/** Extends a dedup lease only while it is one: a key already `done` keeps its longer life. */
const RENEW_LEASE = "if redis.call('get', KEYS[1]) == 'running' then return redis.call('pexpire', KEYS[1], ARGV[1]) end return 0"

/**
 * Reads one consumer group's streams until stopped: new entries (XREADGROUP `>`), and every
 * `claimIdle / 2` the entries other consumers left pending longer than `claimIdle` (XAUTOCLAIM:
 * a consumer that died). Each entry is acknowledged (XACK) once its subscriptions finished;
 * one that failed stays pending and is delivered again after `claimIdle`.
 *
 * Duplicates (one event id in two entries: an outbox relayed twice; an entry re-claimed after
 * its handler finished) are suppressed with a key per group and event id, `SET NX`: `running`
 * (with a lease of `claimIdle`, renewed while it runs) then `done` (kept `dedupTtl` seconds).
 * While an entry is in hand its lease and its idle time are renewed, so a slow handler is not
 * taken over.
 */
export class GroupReader {
  /** Entries read and not yet settled: stream key → entry id → dedup key. */
  private readonly inHand = new Map<string, Map<string, string>>()
  private lastClaim = 0
  private warned = false

  constructor(
    private readonly group: BusGroup,
    private readonly context: GroupReaderContext,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    const keeper = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.context.claimIdle / 3)))
    keeper.unref()
    try {
      while (!signal.aborted) {
        try {
          await this.turn()
          this.warned = false
        } catch (error) {
          if (signal.aborted) break
          if (errorMessage(error).includes('NOGROUP')) {
            this.context.logger.warn(`Event bus: group "${this.group.group}" is gone (streams deleted, or Redis restarted empty); creating it again.`)
            await this.context.ensureGroup(this.group).catch(() => undefined)
            continue
          }
          if (!this.warned) this.context.logger.warn(`Event bus: reading group "${this.group.group}" failed (${errorMessage(error)}); retrying.`)
          this.warned = true
          await pause(500, signal)
        }
      }
    } finally {
      clearInterval(keeper)
    }
  }

  private async turn(): Promise<void> {
    const { redis, claimIdle, consumer, batch } = this.context
    if (Date.now() - this.lastClaim >= claimIdle / 2) {
      this.lastClaim = Date.now()
      for (const event of this.group.events) {
        const key = this.context.streamKey(event)
        const reply = (await redis.xautoclaim(key, this.group.group, consumer, claimIdle, '0-0', 'COUNT', batch)) as [string, Entry[], string[]?]
        await this.handleAll(key, reply[1])
      }
    }
    const keys = this.group.events.map((event) => this.context.streamKey(event))
    const reply = (await redis.xreadgroup('GROUP', this.group.group, consumer, 'COUNT', batch, 'BLOCK', this.context.block, 'STREAMS', ...keys, ...keys.map(() => '>'))) as
      | Array<[string, Entry[]]>
      | null
    for (const [key, entries] of reply ?? []) await this.handleAll(key, entries)
  }

  private async handleAll(key: string, entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return
    let held = this.inHand.get(key)
    if (held === undefined) this.inHand.set(key, (held = new Map()))
    const messages = entries.map(([, fields]) => toMessage(fields))
    entries.forEach(([entryId], i) => held.set(entryId, messages[i] === null ? '' : this.context.seenKey(this.group.group, messages[i]!.id)))
    try {
      const taken = await this.take(messages)
      // One at a time: a stream's events reach a consumer in order.
      for (let i = 0; i < entries.length; i++) {
        const entryId = entries[i]![0]
        try {
          await this.handle(key, entryId, messages[i]!, taken[i]!)
        } finally {
          held.delete(entryId)
        }
      }
    } finally {
      for (const [entryId] of entries) held.delete(entryId)
    }
  }

  /**
   * Takes the batch's dedup keys in one round trip (`SET NX`, `running`, a lease of `claimIdle`
   * renewed while in hand): true for each message this consumer is to run.
   */
  private async take(messages: ReadonlyArray<BusMessage | null>): Promise<boolean[]> {
    const { redis, claimIdle } = this.context
    const pipeline = redis.pipeline()
    for (const message of messages) if (message !== null) pipeline.set(this.context.seenKey(this.group.group, message.id), 'running', 'PX', claimIdle, 'NX')
    const replies = (await pipeline.exec()) ?? []
    const failed = replies.find(([error]) => error !== null)
    if (failed !== undefined) throw failed[0]
    let next = 0
    return messages.map((message) => message !== null && replies[next++]![1] === 'OK')
  }

  private async handle(key: string, entryId: string, message: BusMessage | null, taken: boolean): Promise<void> {
    const { redis, logger } = this.context
    if (message === null) {
      // Deleted by trimming while pending (null fields), or not written by Herald: nothing to run.
      logger.warn(`Event bus: entry ${entryId} of ${key} is not an event; acknowledged without running anything.`)
      await redis.xack(key, this.group.group, entryId)
      return
    }
    const seenKey = this.context.seenKey(this.group.group, message.id)
    if (!taken) {
      // Handled already: acknowledge this copy. Running elsewhere: leave it pending for a later claim.
      if ((await redis.get(seenKey)) === 'done') await redis.xack(key, this.group.group, entryId)
      return
    }
    try {
      await this.group.handle(message)
    } catch (error) {
      await redis.del(seenKey)
      logger.error(`Event bus: "${message.name}" (${message.id}) failed in group "${this.group.group}": ${errorMessage(error)}; it will be delivered again.`)
      return
    }
    await redis.multi().set(seenKey, 'done', 'EX', this.context.dedupTtl).xack(key, this.group.group, entryId).exec()
  }

  /** Keeps what is in hand this consumer's: resets the entries' idle time and the dedup leases. */
  private async renew(): Promise<void> {
    const { redis, consumer, claimIdle } = this.context
    const pipeline = redis.pipeline()
    let count = 0
    for (const [key, held] of this.inHand) {
      if (held.size === 0) continue
      pipeline.xclaim(key, this.group.group, consumer, 0, ...held.keys(), 'JUSTID')
      for (const seenKey of held.values()) if (seenKey !== '') pipeline.eval(RENEW_LEASE, 1, seenKey, claimIdle)
      count++
    }
    if (count === 0) return
    try {
      await pipeline.exec()
    } catch (error) {
      this.context.logger.debug(`Event bus: renewing group "${this.group.group}" failed: ${errorMessage(error)}`)
    }
  }
}

/** A stream entry's fields as a message; null when they are not what the driver writes. */
export function toMessage(fields: readonly string[] | null): BusMessage | null {
  if (fields === null) return null
  const map = new Map<string, string>()
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!)
  const id = map.get('id')
  const name = map.get('name')
  const payload = map.get('payload')
  if (id === undefined || name === undefined || payload === undefined) return null
  return { id, name, payload, publishedAt: Number(map.get('at') ?? 0), source: map.get('source') ?? '' }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
