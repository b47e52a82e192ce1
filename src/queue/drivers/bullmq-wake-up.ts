import { Redis } from 'ioredis'
import type { Logger } from '../../foundation/logger.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/**
 * The longest a blocking wait lasts before the queues are asked again anyway, as BullMQ itself
 * does: a blocking connection that silently died must not stall the worker forever.
 */
const MAX_BLOCK_SECONDS = 10

/**
 * Waits, on a connection of its own, until any of several BullMQ queues may have a job: one
 * BZPOPMIN on all their wake-up markers at once, bounded by when the next delayed job is due.
 * (A blocked BZPOPMIN would hold up every other command on a shared connection.)
 */
export class BullmqWakeUp {
  private readonly blocking: Redis
  /** When the next delayed job is due, as learned from a delay marker (epoch ms). */
  private nextDue = Number.POSITIVE_INFINITY
  private waking: Promise<void> | null = null

  constructor(
    url: string,
    private readonly markers: readonly string[],
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {
    this.blocking = new Redis(url, { maxRetriesPerRequest: null, autoResendUnfulfilledCommands: false, lazyConnect: true })
    this.blocking.on('error', (error) => logger.debug(`BullMQ wake-up connection: ${errorMessage(error)}`))
  }

  /** A delayed job is due at `at` (epoch ms): the wait ends then at the latest. */
  due(at: number): void {
    if (at > Date.now()) this.nextDue = Math.min(this.nextDue, at)
  }

  /**
   * Resolves when a queue may have a job: a wake-up marker was pushed, the next delayed job is
   * due, or `sleep` seconds passed. One BZPOPMIN is in flight at a time; a wait cut short (by a
   * finishing slot) is picked up again by the next call rather than stacking another.
   */
  wait(sleep: number): Promise<void> {
    if (this.waking !== null) return this.waking
    const now = Date.now()
    if (this.nextDue <= now) this.nextDue = Number.POSITIVE_INFINITY
    const idle = Math.min(Math.max(sleep, 0.05), MAX_BLOCK_SECONDS)
    const seconds = Math.max(Math.min(idle, (this.nextDue - now) / 1000), 0.001)
    let watchdog: NodeJS.Timeout | undefined
    const blocked = this.blocking.bzpopmin(...this.markers, seconds).then((result) => {
      // A marker's score is 0 for "a job is waiting", or when the next delayed job is due.
      if (result !== null) this.due(Number(result[2]))
    })
    const stuck = new Promise<void>((resolve) => {
      watchdog = setTimeout(() => {
        // During an outage the consumer has said so already; a silent stall is worth a line.
        const say = this.blocking.status === 'ready' ? 'warn' : 'debug'
        this.logger[say]('The BullMQ wake-up connection did not answer in time: reconnecting it.')
        this.blocking.disconnect(true)
        resolve()
      }, seconds * 1000 + 2000)
    })
    this.waking = Promise.race([blocked, stuck])
      .catch((error: unknown) => {
        if (!this.signal.aborted) this.logger.debug(`Waiting for BullMQ jobs: ${errorMessage(error)}`)
        return pause(100)
      })
      .finally(() => {
        clearTimeout(watchdog)
        this.waking = null
      })
    return this.waking
  }

  async close(): Promise<void> {
    try {
      this.blocking.disconnect()
    } catch (error) {
      this.logger.error(`Closing the BullMQ wake-up connection failed: ${errorMessage(error)}`)
    }
    await this.waking
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
