import type { Knex } from 'knex'
import { ulid } from '../../foundation/ulid.ts'
import type { Dispatcher } from '../dispatcher.ts'
import { currentEventContext } from '../event-context.ts'
import { ConcurrencyError } from './concurrency-error.ts'
import { toStoredEvent, type StoredEvent, type StoredEventRow, type StoredEventsTable } from './stored-events-table.ts'

/** What an append expects the stream's version to be: a number (0: a new stream), or `'any'` for no check. */
export type ExpectedVersion = number | 'any'

/** A stream event loaded back: the rebuilt event with its version. */
export interface StreamEvent {
  readonly id: string
  readonly version: number
  readonly event: object
  readonly correlationId: string
  readonly causationId: string | null
  readonly occurredAt: Date
}

/** What an append did: the stream's version now, and the rows it wrote (none when every event was already stored). */
export interface AppendResult {
  readonly version: number
  readonly appended: readonly StoredEvent[]
}

/** The ids given to event objects (without an `eventId`) appended to streams or loaded from them, so a retried append is a no-op. */
const eventIds = new WeakMap<object, string>()
/** Event objects that are rows of the store (appended, or loaded): dispatching them stores nothing more. */
const storedObjects = new WeakSet<object>()

/** An `'any'` append that loses to a concurrent one tries again, at most this many times in all. */
const ANY_VERSION_ATTEMPTS = 50

/**
 * An event's own id in its stream: its `eventId` property when it has a non-empty string one
 * (say, the retried command's idempotency key), else an id (a ULID) the store gives the object
 * the first time it is asked and keeps for it. Appending an event whose id the stream holds
 * stores nothing. (`id` is not used: it is usually the id of the thing the event is about.)
 *
 * ```ts
 * class MoneyDeposited { constructor(readonly amount: number, readonly eventId?: string) {} }
 * streamEventId(new MoneyDeposited(10, 'cmd-42'))   // 'cmd-42'
 * ```
 */
export function streamEventId(event: object): string {
  const own = ownEventId(event)
  if (own !== null) return own
  let id = eventIds.get(event)
  if (id === undefined) {
    id = ulid()
    eventIds.set(event, id)
  }
  return id
}

/** The event's `eventId` property, when it is a non-empty string. */
function ownEventId(event: object): string | null {
  const own = (event as { eventId?: unknown }).eventId
  return typeof own === 'string' && own.length > 0 ? own : null
}

/** True for an event object appended to a stream or loaded from one: it is stored already. */
export function isStoredEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && storedObjects.has(event)
}

/**
 * Event-sourced streams: an aggregate's events, appended with optimistic concurrency (the
 * unique (stream_id, version) index lets exactly one of two concurrent appends win) and
 * loaded back, rebuilt, in order. Their rows sit in the dispatch log's table.
 *
 * ```ts
 * const streams = new EventStreams(table, events)
 * await streams.append('order-7', [new OrderPlaced(7, 30)], 0)     // 0: the stream must be new
 * for (const { version, event } of await streams.load('order-7')) console.log(version, event)
 * ```
 */
export class EventStreams {
  constructor(
    private readonly table: StoredEventsTable,
    private readonly events: Dispatcher,
  ) {}

  /**
   * Appends events to a stream after its last one, all or none, checking that the stream is at
   * `expectedVersion` (0 for a new stream; `'any'` skips the check). Raises
   * {@link ConcurrencyError} when another append came first, even one running at the same
   * moment in another process. Events already stored (same id, see {@link streamEventId}) are
   * skipped, so retrying an append that did commit is a no-op. Inside `DB.transaction` on the
   * store's connection it is part of that transaction. Appending does not dispatch.
   */
  async append(streamId: string, events: readonly object[], expectedVersion: ExpectedVersion = 'any'): Promise<AppendResult> {
    const context = currentEventContext()
    const occurredAt = Date.now()
    const prepared = new Map<string, StoredEventRow>()
    // Outside any dispatch, a batch is its own chain: correlated by its first event.
    const correlationId = context?.correlationId ?? (events.length > 0 ? streamEventId(events[0]!) : '')
    for (const event of events) {
      const name = this.remember(event)
      const eventId = streamEventId(event)
      // An event's own id need not be a ULID: the row gets one, which keeps the table in time order.
      const id = ownEventId(event) === null ? eventId : ulid()
      prepared.set(eventId, { ...this.table.toRow({ id, name, event, correlationId, causationId: context?.eventId ?? null, streamId, occurredAt }), event_id: eventId })
    }
    const result = await this.insertWithRetries(streamId, prepared, expectedVersion)
    for (const event of events) storedObjects.add(event)
    return result
  }

  /**
   * Dispatches events that are in the store (appended to a stream, or loaded) to their
   * listeners, one after another; the store middleware does not write them a second time.
   */
  async dispatchStored(events: readonly object[]): Promise<void> {
    for (const event of events) await this.events.dispatch(event)
  }

  /** A stream's events from `fromVersion` (inclusive, default 1) on, rebuilt, in order. */
  async load(streamId: string, fromVersion = 1): Promise<StreamEvent[]> {
    const db = await this.table.query()
    let rows: StoredEventRow[]
    try {
      rows = await db(this.table.name).where('stream_id', streamId).andWhere('version', '>=', fromVersion).orderBy('version')
    } catch (error) {
      throw this.table.explain(error)
    }
    return rows.map((row) => {
      const stored = toStoredEvent(row)
      const event = this.table.rebuild(stored) as object
      if (ownEventId(event) === null) eventIds.set(event, stored.eventId ?? stored.id)
      storedObjects.add(event)
      return { id: stored.id, version: stored.version!, event, correlationId: stored.correlationId, causationId: stored.causationId, occurredAt: stored.occurredAt }
    })
  }

  /** A stream's version: its last event's, 0 when it has none. */
  async version(streamId: string): Promise<number> {
    return this.currentVersion(await this.table.query(), streamId)
  }

  private async insertWithRetries(streamId: string, prepared: ReadonlyMap<string, StoredEventRow>, expectedVersion: ExpectedVersion): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.table.transaction((trx) => this.insertStream(trx, streamId, [...prepared.values()], expectedVersion))
      } catch (error) {
        if (!isConflict(error)) throw this.table.explain(error)
        // Another append took these versions (or stored these very events) first.
        const db = await this.table.query()
        const stored = await db(this.table.name).where('stream_id', streamId).whereIn('event_id', [...prepared.keys()]).count({ count: '*' })
        const actual = await this.currentVersion(db, streamId)
        if (Number(stored[0]!.count) === prepared.size) return { version: actual, appended: [] }
        if (expectedVersion !== 'any' || attempt >= ANY_VERSION_ATTEMPTS) throw new ConcurrencyError(streamId, expectedVersion, actual)
      }
    }
  }

  private async insertStream(trx: Knex.Transaction, streamId: string, prepared: readonly StoredEventRow[], expected: ExpectedVersion): Promise<AppendResult> {
    if (this.table.isSqlite) {
      // Take SQLite's write lock before reading, waiting for it (busy_timeout) if another
      // connection holds it: a transaction that read first and then writes after someone
      // else's commit fails at once with SQLITE_BUSY instead of waiting.
      await trx.raw('update ?? set id = id where 0 = 1', [this.table.name])
    }
    const existing = new Set<string>()
    if (prepared.length > 0) {
      const rows = (await trx(this.table.name).where('stream_id', streamId).whereIn('event_id', prepared.map((row) => row.event_id!)).select('event_id')) as Array<{ event_id: string }>
      for (const row of rows) existing.add(row.event_id)
    }
    const current = await this.currentVersion(trx, streamId)
    const fresh = prepared.filter((row) => !existing.has(row.event_id!))
    if (fresh.length === 0) return { version: current, appended: [] }
    if (expected !== 'any' && current !== expected) throw new ConcurrencyError(streamId, expected, current)
    const rows = fresh.map((row, i) => ({ ...row, version: current + 1 + i }))
    await trx(this.table.name).insert(rows)
    return { version: current + rows.length, appended: rows.map(toStoredEvent) }
  }

  private async currentVersion(db: Knex | Knex.Transaction, streamId: string): Promise<number> {
    try {
      const [row] = (await db(this.table.name).where('stream_id', streamId).max({ version: 'version' })) as Array<{ version: number | string | null }>
      return Number(row?.version ?? 0)
    } catch (error) {
      throw this.table.explain(error)
    }
  }

  /** A stream event's name, its class kept for loading. */
  private remember(event: object): string {
    if (typeof event !== 'object' || event === null || Object.getPrototypeOf(event) === Object.prototype) {
      throw new TypeError('Stream events must be instances of event classes (class OrderPlaced { ... }), not plain objects.')
    }
    return this.table.keepClass(event.constructor)
  }
}

/** Unique violations (an id or a stream version taken) and the deadlocks concurrent inserts can end in. */
function isConflict(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  return (
    code === '23505' ||
    code === '40001' ||
    code === '40P01' ||
    errno === 1062 ||
    errno === 1213 ||
    (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT'))
  )
}
