import type { EventClassRegistry } from '../../foundation/serializer.ts'
import type { Dispatcher } from '../dispatcher.ts'
import type { DispatchRecord } from '../dispatch-contracts.ts'
import { DispatchLog, type StoredEventFilter } from './dispatch-log.ts'
import { EventStreams, isStoredEvent, streamEventId, type AppendResult, type ExpectedVersion, type StreamEvent } from './event-streams.ts'
import { Snapshots, type Snapshot } from './snapshots.ts'
import { StoredEventsTable, type StoredEvent, type StoredEventsTableDependencies } from './stored-events-table.ts'

export interface EventStoreDependencies extends StoredEventsTableDependencies {
  /** Where `dispatchStored` sends stream events. */
  readonly events: Dispatcher
}

/**
 * The event store: every dispatched event as a row (with `EVENTS_STORE_ENABLED`, through the
 * store middleware), and streams of an event-sourced aggregate's events with optimistic
 * concurrency. One table, `stored_events` (`EVENTS_STORE_TABLE`), ordered by ULID id.
 * The two halves live apart: {@link DispatchLog} (writes and history) and
 * {@link EventStreams} (appends and loads); this class is the one face the application binds.
 *
 * ```ts
 * const store = app.make('events.store')
 * await store.append('order-7', [new OrderPlaced(7, 30)], 0)     // 0: the stream must be new
 * for (const { version, event } of await store.load('order-7')) console.log(version, event)
 * ```
 */
export class EventStore {
  /** Rebuilds stored events: the dependencies' registry, and the classes met in appends. */
  readonly registry: EventClassRegistry
  private readonly rows: StoredEventsTable
  private readonly log: DispatchLog
  private readonly streams: EventStreams
  private readonly snapshots: Snapshots

  constructor(deps: EventStoreDependencies) {
    this.rows = new StoredEventsTable(deps)
    this.registry = this.rows.registry
    this.log = new DispatchLog(this.rows)
    this.streams = new EventStreams(this.rows, deps.events)
    this.snapshots = new Snapshots(this.rows)
  }

  /** The table's name. */
  get table(): string {
    return this.rows.name
  }

  /**
   * A stream event's id: its `eventId` property (a non-empty string), else an id given to the
   * object now if it has none. Appending an event whose id its stream holds is a no-op.
   *
   * ```ts
   * EventStore.idOf(new MoneyDeposited(10, 'cmd-42'))   // 'cmd-42' when the class has eventId
   * ```
   */
  static idOf(event: object): string {
    return streamEventId(event)
  }

  /** True for an event object appended to a stream or loaded from one: it is stored already. */
  static holds(event: unknown): boolean {
    return isStoredEvent(event)
  }

  /**
   * Writes one dispatch (what the store middleware calls): through the current `DB.transaction`
   * on the store's connection when there is one, so it commits or rolls back with it.
   */
  write(record: DispatchRecord): Promise<void> {
    return this.log.write(record)
  }

  /**
   * Appends events to a stream (an aggregate's id) after its last one, all or none, checking
   * that the stream is at `expectedVersion` (0 for a new stream; `'any'` skips the check).
   * Raises ConcurrencyError when another append came first; see {@link EventStreams.append}.
   * Appending does not dispatch: `AggregateRoot.persist()` does.
   */
  append(streamId: string, events: readonly object[], expectedVersion: ExpectedVersion = 'any'): Promise<AppendResult> {
    return this.streams.append(streamId, events, expectedVersion)
  }

  /**
   * Dispatches events that are in the store (appended to a stream, or loaded) to their
   * listeners, one after another; the store middleware does not write them a second time.
   */
  dispatchStored(events: readonly object[]): Promise<void> {
    return this.streams.dispatchStored(events)
  }

  /** A stream's events from `fromVersion` (inclusive, default 1) on, rebuilt, in order. */
  load(streamId: string, fromVersion = 1): Promise<StreamEvent[]> {
    return this.streams.load(streamId, fromVersion)
  }

  /** A stream's version: its last event's, 0 when it has none. */
  version(streamId: string): Promise<number> {
    return this.streams.version(streamId)
  }

  /**
   * A stream's latest snapshot (see `AggregateRoot.snapshotEvery`), or null.
   *
   * ```ts
   * const snapshot = await store.latestSnapshot('account-7')   // { version: 200, state: { balance: 30 }, … }
   * ```
   */
  latestSnapshot(streamId: string): Promise<Snapshot | null> {
    return this.snapshots.latest(streamId)
  }

  /**
   * Stores an aggregate's state at a version of its stream (redacted, encoded as the queue
   * serializer does), in place of the stream's older snapshots.
   *
   * ```ts
   * await store.saveSnapshot({ streamId: 'account-7', version: 200, aggregate: 'Account', state: { balance: 30 } })
   * ```
   */
  saveSnapshot(snapshot: Omit<Snapshot, 'createdAt'>): Promise<void> {
    return this.snapshots.save(snapshot)
  }

  /**
   * Deletes the dispatch log's rows older than `olderThan` (never a stream's: an aggregate's
   * events are its state) and resolves to how many went; what `artisan event:prune` runs.
   *
   * ```ts
   * await store.prune(new Date(Date.now() - 90 * 86_400_000))
   * ```
   */
  prune(olderThan: Date): Promise<number> {
    return this.log.prune(olderThan)
  }

  /** Stored events matching `filter`, oldest first unless `order: 'desc'`. */
  history(filter: StoredEventFilter = {}): Promise<StoredEvent[]> {
    return this.log.history(filter)
  }

  /** How many stored events match `filter` (its limit and order aside). */
  count(filter: StoredEventFilter = {}): Promise<number> {
    return this.log.count(filter)
  }

  /** Every stored event matching `filter`, oldest first, read `batchSize` rows at a time. */
  cursor(filter: Omit<StoredEventFilter, 'limit' | 'order'> = {}, batchSize = 500): AsyncGenerator<StoredEvent> {
    return this.log.cursor(filter, batchSize)
  }

  /**
   * The event a row holds: an instance of its class (rebuilt without running the constructor),
   * or a string event's payload. Throws PayloadDecodeError when its class is unknown here.
   */
  rebuild(stored: StoredEvent): unknown {
    return this.rows.rebuild(stored)
  }
}
