import type { Logger } from '../foundation/logger.ts'
import { errorMessage } from '../foundation/error-message.ts'
import type { EventBusDriver } from './event-bus-driver.ts'
import type { OutboxTable } from './outbox-table.ts'

export interface OutboxRelayContext {
  readonly table: OutboxTable
  readonly driver: () => Promise<EventBusDriver>
  readonly logger: Logger
  /** Longest wait, in ms, between tries while the bus is down. */
  readonly maxDelay: number
}

/** Rows moved per round trip. */
const BATCH = 100

/**
 * Moves the outbox's rows to the bus, oldest first, deleting each batch once the bus took it.
 * While the bus is down the rows stay and the relay tries again (capped backoff, one warning
 * per outage). Two relays (two processes) may send a row twice: the receivers' dedup by event
 * id makes that harmless.
 *
 * ```ts
 * relay.kick()          // after a commit that wrote rows
 * await relay.drain()   // resolves when the outbox is empty or the bus is down
 * ```
 */
export class OutboxRelay {
  private running: Promise<void> | null = null
  private again = false
  private timer: NodeJS.Timeout | null = null
  private failures = 0
  private closed = false

  constructor(private readonly context: OutboxRelayContext) {}

  /** Starts a run (or asks the current one to look again). Never rejects. */
  kick(): void {
    if (this.closed) return
    if (this.running !== null) {
      this.again = true
      return
    }
    this.running = this.run().finally(() => {
      this.running = null
      if (this.again) {
        this.again = false
        this.kick()
      }
    })
  }

  /** Runs the relay now and resolves once it is done (the outbox empty, or the bus down). */
  async drain(): Promise<void> {
    // One whole pass that starts after this call: a pass under way may have read before it.
    await this.running
    this.kick()
    await this.running
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.running
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        const rows = await this.context.table.take(BATCH)
        if (rows.length === 0) break
        await (await this.context.driver()).publish(rows.map((row) => row.message))
        await this.context.table.remove(rows.map((row) => row.rowId))
      }
      if (this.failures > 0) this.context.logger.info('Event bus: the outbox relay is sending again.')
      this.failures = 0
    } catch (error) {
      if (this.failures === 0) this.context.logger.warn(`Event bus: the outbox relay could not send (${errorMessage(error)}); the events wait in the outbox.`)
      this.failures++
      this.retryLater()
    }
  }

  private retryLater(): void {
    if (this.closed || this.timer !== null) return
    const delay = Math.min(this.context.maxDelay, 100 * 2 ** Math.min(this.failures, 10))
    this.timer = setTimeout(() => {
      this.timer = null
      this.kick()
    }, delay)
    this.timer.unref()
  }
}
