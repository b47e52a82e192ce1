import type { Knex } from 'knex'
import type { DatabaseManager } from '../../database/database-manager.ts'
import { explainMissingTable } from '../../database/missing-table.ts'
import { currentTransaction } from '../../database/transactions.ts'
import { decodeValue, encodeValue, type EventClassRegistry } from '../../foundation/serializer.ts'
import { ulid } from '../../foundation/ulid.ts'
import { eventClassName } from '../dispatchable.ts'
import type { DispatchRecord, Dispatcher } from '../dispatcher.ts'
import { currentEventContext } from '../event-context.ts'
import type { Redactor } from '../redaction.ts'
import { ConcurrencyError } from './concurrency-error.ts'

/** What an append expects the stream's version to be: a number (0: a new stream), or `'any'` for no check. */
export type ExpectedVersion = number | 'any'

/** One row of the event store. */
export interface StoredEvent {
  /** A ULID: the dispatch's id, or the id a stream event was given; the table's order. */
  readonly id: string
  readonly name: string
  /** The event as stored (after redaction): the queue serializer's JSON, parsed. */
  readonly payload: unknown
  /** The event class's `static tags`, or []. */
  readonly tags: readonly string[]
  readonly correlationId: string
  readonly causationId: string | null
  /** The stream (an aggregate's id) it was appended to, or null for a plain dispatch. */
  readonly streamId: string | null
  /** Its position in the stream, from 1; null outside streams. */
  readonly version: number | null
  readonly occurredAt: Date
}

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

/** Which stored events to read. Every field is optional; ids and dates are inclusive. */
export interface StoredEventFilter {
  /** Only these event names. */
  readonly events?: readonly string[]
  readonly since?: Date
  readonly until?: Date
  /** From this id on (ULIDs sort by time). */
  readonly from?: string
  readonly to?: string
  readonly limit?: number
  /** By id: oldest first (the default) or newest first. */
  readonly order?: 'asc' | 'desc'
}

export interface EventStoreDependencies {
  readonly database: () => DatabaseManager
  /** The database connection, or null for the default one. */
  readonly connection: string | null
  readonly table: string
  /** Rebuilds event classes by name (the dispatcher's and discovery's). */
  readonly registry: EventClassRegistry
  readonly redact: Redactor
  /** Where `dispatchStored` sends stream events. */
  readonly events: Dispatcher
}

interface Row {
  id: string
  name: string
  payload: string
  tags: string
  correlation_id: string
  causation_id: string | null
  stream_id: string | null
  version: number | string | null
  occurred_at: number | string
}

/** The ids given to event objects appended to streams (or loaded from them), so a retried append is a no-op. */
const eventIds = new WeakMap<object, string>()
/** Event objects that are rows of the store (appended, or loaded): dispatching them stores nothing more. */
const storedObjects = new WeakSet<object>()

/** An `'any'` append that loses to a concurrent one tries again, at most this many times in all. */
const ANY_VERSION_ATTEMPTS = 50

/**
 * The event store: every dispatched event as a row (with `EVENTS_STORE_ENABLED`, through the
 * store middleware), and streams of an event-sourced aggregate's events with optimistic
 * concurrency. One table, `stored_events` (`EVENTS_STORE_TABLE`), ordered by ULID id.
 *
 * ```ts
 * const store = app.make('events.store')
 * await store.append('order-7', [new OrderPlaced(7, 30)], 0)     // 0: the stream must be new
 * for (const { version, event } of await store.load('order-7')) console.log(version, event)
 * ```
 */
export class EventStore {
  /** Classes met in appends, so a stream can be loaded before any of them is dispatched. */
  private readonly classes = new Map<string, Function>()
  readonly registry: EventClassRegistry

  constructor(private readonly deps: EventStoreDependencies) {
    this.registry = {
      classFor: (name) => this.classes.get(name) ?? deps.registry.classFor(name),
      nameOf: (instance) => deps.registry.nameOf(instance) ?? this.appendedName(instance),
    }
  }

  /** The table's name. */
  get table(): string {
    return this.deps.table
  }

  /** The id of an event object in the store, given now if it has none: appending it again is a no-op. */
  static idOf(event: object): string {
    let id = eventIds.get(event)
    if (id === undefined) {
      id = ulid()
      eventIds.set(event, id)
    }
    return id
  }

  /** True for an event object appended to a stream or loaded from one: it is stored already. */
  static holds(event: unknown): boolean {
    return typeof event === 'object' && event !== null && storedObjects.has(event)
  }

  /**
   * Writes one dispatch (what the store middleware calls): through the current `DB.transaction`
   * on the store's connection when there is one, so it commits or rolls back with it.
   */
  async write(record: DispatchRecord): Promise<void> {
    const row: Row = {
      id: record.id,
      name: record.name,
      payload: this.encode(record.name, record.event),
      tags: JSON.stringify(tagsOf(record.name, record.event)),
      correlation_id: record.correlationId,
      causation_id: record.causationId,
      stream_id: null,
      version: null,
      occurred_at: record.occurredAt.getTime(),
    }
    const db = await this.query()
    try {
      await db(this.table).insert(row)
    } catch (error) {
      throw this.explain(error)
    }
  }

  /**
   * Appends events to a stream (an aggregate's id) after its last one, all or none, checking
   * that the stream is at `expectedVersion` (0 for a new stream; `'any'` skips the check).
   * Raises {@link ConcurrencyError} when another append came first, even one running at the
   * same moment in another process: the unique (stream_id, version) index lets exactly one win.
   * Events already stored (same id, see {@link EventStore.idOf}) are skipped, so retrying an
   * append that did commit is a no-op. Inside `DB.transaction` on the store's connection it
   * is part of that transaction. Appending does not dispatch: `AggregateRoot.persist()` does.
   */
  async append(streamId: string, events: readonly object[], expectedVersion: ExpectedVersion = 'any'): Promise<AppendResult> {
    const context = currentEventContext()
    const occurredAt = Date.now()
    const prepared = new Map<string, Row>()
    // Outside any dispatch, a batch is its own chain: correlated by its first event.
    const correlation = context?.correlationId ?? (events.length > 0 ? EventStore.idOf(events[0]!) : '')
    for (const event of events) {
      const name = this.remember(event)
      const id = EventStore.idOf(event)
      prepared.set(id, {
        id,
        name,
        payload: this.encode(name, event),
        tags: JSON.stringify(tagsOf(name, event)),
        correlation_id: correlation,
        causation_id: context?.eventId ?? null,
        stream_id: streamId,
        version: null,
        occurred_at: occurredAt,
      })
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
    for (const event of events) await this.deps.events.dispatch(event)
  }

  /** A stream's events from `fromVersion` (inclusive, default 1) on, rebuilt, in order. */
  async load(streamId: string, fromVersion = 1): Promise<StreamEvent[]> {
    const db = await this.query()
    let rows: Row[]
    try {
      rows = await db(this.table).where('stream_id', streamId).andWhere('version', '>=', fromVersion).orderBy('version')
    } catch (error) {
      throw this.explain(error)
    }
    return rows.map((row) => {
      const stored = toStoredEvent(row)
      const event = this.rebuild(stored) as object
      eventIds.set(event, stored.id)
      storedObjects.add(event)
      return { id: stored.id, version: stored.version!, event, correlationId: stored.correlationId, causationId: stored.causationId, occurredAt: stored.occurredAt }
    })
  }

  /** A stream's version: its last event's, 0 when it has none. */
  async version(streamId: string): Promise<number> {
    return this.currentVersion(await this.query(), streamId)
  }

  /** Stored events matching `filter`, oldest first unless `order: 'desc'`. */
  async history(filter: StoredEventFilter = {}): Promise<StoredEvent[]> {
    return this.select(filter, null)
  }

  /** How many stored events match `filter` (its limit and order aside). */
  async count(filter: StoredEventFilter = {}): Promise<number> {
    const db = await this.query()
    try {
      const [row] = (await this.filtered(db(this.table), filter).count({ count: '*' })) as Array<{ count: number | string }>
      return Number(row?.count ?? 0)
    } catch (error) {
      throw this.explain(error)
    }
  }

  /** Every stored event matching `filter`, oldest first, read `batchSize` rows at a time. */
  async *cursor(filter: Omit<StoredEventFilter, 'limit' | 'order'> = {}, batchSize = 500): AsyncGenerator<StoredEvent> {
    let after: string | null = null
    for (;;) {
      const page: StoredEvent[] = await this.select({ ...filter, limit: batchSize }, after)
      yield* page
      if (page.length < batchSize) return
      after = page.at(-1)!.id
    }
  }

  /**
   * The event a row holds: an instance of its class (rebuilt without running the constructor),
   * or a string event's payload. Throws PayloadDecodeError when its class is unknown here.
   */
  rebuild(stored: StoredEvent): unknown {
    return decodeValue(stored.payload, this.registry)
  }

  /** Rows matching `filter`, after the id `after` when given. */
  private async select(filter: StoredEventFilter, after: string | null): Promise<StoredEvent[]> {
    const db = await this.query()
    const query = this.filtered(db(this.table).select('*'), filter).orderBy('id', filter.order ?? 'asc')
    if (after !== null) query.where('id', '>', after)
    if (filter.limit !== undefined) query.limit(filter.limit)
    try {
      return ((await query) as Row[]).map(toStoredEvent)
    } catch (error) {
      throw this.explain(error)
    }
  }

  private get connectionName(): string {
    return this.deps.connection ?? this.deps.database().defaultConnection
  }

  /** The current transaction on the store's connection, or the connection. */
  private async query(): Promise<Knex | Knex.Transaction> {
    const knex = await this.deps.database().connection(this.connectionName)
    return currentTransaction<Knex.Transaction>(knex) ?? knex
  }

  private async insertWithRetries(streamId: string, prepared: ReadonlyMap<string, Row>, expectedVersion: ExpectedVersion): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.database().transaction((trx) => this.insertStream(trx, streamId, [...prepared.values()], expectedVersion), this.connectionName)
      } catch (error) {
        if (!isConflict(error)) throw this.explain(error)
        // Another append took these versions (or stored these very events) first.
        const db = await this.query()
        const stored = await db(this.table).whereIn('id', [...prepared.keys()]).count({ count: '*' })
        const actual = await this.currentVersion(db, streamId)
        if (Number(stored[0]!.count) === prepared.size) return { version: actual, appended: [] }
        if (expectedVersion !== 'any' || attempt >= ANY_VERSION_ATTEMPTS) throw new ConcurrencyError(streamId, expectedVersion, actual)
      }
    }
  }

  private async insertStream(trx: Knex.Transaction, streamId: string, prepared: readonly Row[], expected: ExpectedVersion): Promise<AppendResult> {
    if (this.deps.database().driver(this.connectionName) === 'sqlite') {
      // Take SQLite's write lock before reading, waiting for it (busy_timeout) if another
      // connection holds it: a transaction that read first and then writes after someone
      // else's commit fails at once with SQLITE_BUSY instead of waiting.
      await trx.raw('update ?? set id = id where 0 = 1', [this.table])
    }
    const existing = new Set<string>()
    if (prepared.length > 0) {
      for (const row of (await trx(this.table).whereIn('id', prepared.map((row) => row.id)).select('id')) as Array<{ id: string }>) existing.add(row.id)
    }
    const current = await this.currentVersion(trx, streamId)
    const fresh = prepared.filter((row) => !existing.has(row.id))
    if (fresh.length === 0) return { version: current, appended: [] }
    if (expected !== 'any' && current !== expected) throw new ConcurrencyError(streamId, expected, current)
    const rows = fresh.map((row, i) => ({ ...row, version: current + 1 + i }))
    await trx(this.table).insert(rows)
    return { version: current + rows.length, appended: rows.map(toStoredEvent) }
  }

  private async currentVersion(db: Knex | Knex.Transaction, streamId: string): Promise<number> {
    try {
      const [row] = (await db(this.table).where('stream_id', streamId).max({ version: 'version' })) as Array<{ version: number | string | null }>
      return Number(row?.version ?? 0)
    } catch (error) {
      throw this.explain(error)
    }
  }

  private filtered(query: Knex.QueryBuilder, filter: StoredEventFilter): Knex.QueryBuilder {
    if (filter.events !== undefined && filter.events.length > 0) query.whereIn('name', [...filter.events])
    if (filter.since !== undefined) query.where('occurred_at', '>=', filter.since.getTime())
    if (filter.until !== undefined) query.where('occurred_at', '<=', filter.until.getTime())
    if (filter.from !== undefined) query.where('id', '>=', filter.from)
    if (filter.to !== undefined) query.where('id', '<=', filter.to)
    return query
  }

  /** JSON of the redacted event: a class event tagged with its name, so it can be rebuilt. */
  private encode(name: string, event: unknown): string {
    const redacted = this.deps.redact(event)
    if (!isClassEvent(name, event)) return JSON.stringify(encodeValue(redacted, this.registry))
    const registry: EventClassRegistry = { classFor: this.registry.classFor, nameOf: (value) => (value === redacted ? name : this.registry.nameOf(value)) }
    return JSON.stringify(encodeValue(redacted, registry))
  }

  /** A stream event's name, its class kept for loading. */
  private remember(event: object): string {
    if (typeof event !== 'object' || event === null || Object.getPrototypeOf(event) === Object.prototype) {
      throw new TypeError('Stream events must be instances of event classes (class OrderPlaced { ... }), not plain objects.')
    }
    const name = eventClassName(event.constructor)
    this.classes.set(name, event.constructor)
    return name
  }

  private appendedName(instance: object): string | undefined {
    const ctor = (instance as { constructor?: Function }).constructor
    if (typeof ctor !== 'function') return undefined
    const name = eventClassName(ctor)
    return this.classes.get(name) === ctor ? name : undefined
  }

  private explain(error: unknown): unknown {
    return explainMissingTable(error, this.table, this.connectionName)
  }
}

/** A class event (not a string event's payload): an instance whose class gives the record its name. */
function isClassEvent(name: string, event: unknown): event is object {
  if (typeof event !== 'object' || event === null) return false
  const proto = Object.getPrototypeOf(event) as object | null
  return proto !== null && proto !== Object.prototype && eventClassName(event.constructor) === name
}

function tagsOf(name: string, event: unknown): string[] {
  if (!isClassEvent(name, event)) return []
  const tags = (event.constructor as { tags?: unknown }).tags
  return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : []
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

function toStoredEvent(row: Row): StoredEvent {
  return {
    id: row.id,
    name: row.name,
    payload: JSON.parse(row.payload) as unknown,
    tags: JSON.parse(row.tags) as string[],
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    streamId: row.stream_id,
    version: row.version === null ? null : Number(row.version),
    occurredAt: new Date(Number(row.occurred_at)),
  }
}
