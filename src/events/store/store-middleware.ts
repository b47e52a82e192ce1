import type { EventMiddleware } from '../dispatch-contracts.ts'
import { EventStore } from './event-store.ts'

/**
 * Writes every dispatched event to the store, before its listeners run and inside the caller's
 * `DB.transaction` (so a rollback takes the row with it). A failed write follows the
 * dispatcher's error policy: the dispatch rejects and no listener runs, unless `onError` is set.
 * Not written again: a queued event's listeners running in a worker (stored when it was first
 * dispatched), replays, and stream events that `AggregateRoot.persist()` dispatches.
 */
export function storeMiddleware(store: EventStore): EventMiddleware {
  return {
    name: 'EventStore',
    dispatching(record) {
      if (record.redispatch || record.replaying || EventStore.holds(record.event)) return
      return store.write(record)
    },
  }
}
