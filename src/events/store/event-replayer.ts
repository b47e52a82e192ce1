import type { Dispatcher } from '../dispatcher.ts'
import { withEventContext } from '../event-context.ts'
import type { StoredEventFilter } from './dispatch-log.ts'
import type { EventStore } from './event-store.ts'
import type { StoredEvent } from './stored-events-table.ts'

/** Which stored events to replay, and to which listener. */
export interface ReplayOptions extends Pick<StoredEventFilter, 'from' | 'to' | 'events'> {
  /** Only this listener (`SendReceipt`, or `OrderSubscriber@handleOrderPlaced`). */
  readonly listener?: string
  /** Aborting stops after the event in hand; the summary says which one is next. */
  readonly signal?: AbortSignal
  /** Called after each event, with what became of it. */
  readonly onEvent?: (step: ReplayStep) => void
}

/** One stored event's replay: its listeners ran (`replayed`), one threw (`failed`), or it could not be rebuilt (`skipped`). */
export interface ReplayStep {
  readonly stored: StoredEvent
  readonly outcome: 'replayed' | 'failed' | 'skipped'
  readonly error: unknown
}

export interface ReplaySummary {
  readonly replayed: number
  readonly failed: number
  /** Events whose class is unknown here (renamed, deleted): reported, not replayed. */
  readonly skipped: number
  /** When interrupted: the id of the first event not replayed (`--from` it to resume); else null. */
  readonly stoppedBefore: string | null
}

/**
 * Re-dispatches stored events, oldest first, to their listeners (see `Dispatcher.replay`):
 * each in its original correlation chain, marked `replaying`, so the store does not write it
 * again and listeners can skip side effects (`currentEventContext()?.replaying`). A failing
 * listener is counted and the replay goes on.
 *
 * ```ts
 * const summary = await new EventReplayer(store, events).replay({ events: ['OrderPlaced'], listener: 'SalesReport' })
 * ```
 */
export class EventReplayer {
  constructor(
    private readonly store: EventStore,
    private readonly events: Dispatcher,
  ) {}

  async replay(options: ReplayOptions = {}): Promise<ReplaySummary> {
    const counts = { replayed: 0, failed: 0, skipped: 0 }
    const filter = { from: options.from, to: options.to, events: options.events }
    for await (const stored of this.store.cursor(filter)) {
      if (options.signal?.aborted) return { ...counts, stoppedBefore: stored.id }
      const step = await this.replayOne(stored, options.listener)
      counts[step.outcome]++
      options.onEvent?.(step)
    }
    return { ...counts, stoppedBefore: null }
  }

  private async replayOne(stored: StoredEvent, listener: string | undefined): Promise<ReplayStep> {
    let event: unknown
    try {
      event = this.store.rebuild(stored)
    } catch (error) {
      return { stored, outcome: 'skipped', error }
    }
    try {
      await withEventContext({ correlationId: stored.correlationId, replaying: true }, () =>
        this.events.replay(stored.name, event, listener === undefined ? {} : { listener }),
      )
      return { stored, outcome: 'replayed', error: null }
    } catch (error) {
      return { stored, outcome: 'failed', error }
    }
  }
}
