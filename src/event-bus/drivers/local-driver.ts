import type { Logger } from '../../foundation/logger.ts'
import { errorMessage } from '../../foundation/error-message.ts'
import type { BusGroup, BusGroupStatus, BusMessage, ConsumeOptions, EventBusDriver } from '../event-bus-driver.ts'
import { RecentlySeen } from '../recently-seen.ts'

/** What the local driver needs: the groups of this process, read at each publish. */
export interface LocalDriverContext {
  readonly groups: () => readonly BusGroup[]
  readonly logger: Logger
  /** Ids remembered per group to skip a second delivery. */
  readonly remember: number
}

/**
 * The in-process bus: a publish runs this process's subscriptions at once (each group once,
 * awaited), with no `event-bus:work` needed. For tests and a single machine. A subscription
 * that throws is logged: as on a real bus, the publisher does not see the consumers' failures.
 */
export class LocalDriver implements EventBusDriver {
  private readonly seen = new Map<string, RecentlySeen>()

  constructor(private readonly context: LocalDriverContext) {}

  async publish(messages: readonly BusMessage[]): Promise<void> {
    for (const message of messages) {
      for (const group of this.context.groups()) {
        if (!group.events.includes(message.name)) continue
        await this.deliver(group, message)
      }
    }
  }

  /** Nothing to pull: publishes deliver directly. Resolves once `signal` aborts. */
  consume(options: ConsumeOptions): Promise<void> {
    options.onReady?.()
    if (options.signal.aborted) return Promise.resolve()
    return new Promise((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }))
  }

  async status(): Promise<BusGroupStatus[]> {
    return []
  }

  async close(): Promise<void> {}

  private async deliver(group: BusGroup, message: BusMessage): Promise<void> {
    let seen = this.seen.get(group.group)
    if (seen === undefined) this.seen.set(group.group, (seen = new RecentlySeen(this.context.remember)))
    if (!seen.add(message.id)) return
    try {
      await group.handle(message)
    } catch (error) {
      seen.delete(message.id)
      this.context.logger.error(`Event bus: subscriptions of "${message.name}" (${message.id}) failed: ${errorMessage(error)}`)
    }
  }
}
