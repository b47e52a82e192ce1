import type { Knex } from 'knex'
import type { DatabaseManager } from '../../database/database-manager.ts'
import { explainMissingTable } from '../../database/missing-table.ts'
import { currentTransaction } from '../../database/transactions.ts'
import { decodeValue, encodeValue, type EventClassRegistry } from '../../foundation/serializer.ts'
import { eventClassName } from '../dispatchable.ts'
import type { Redactor } from '../redaction.ts'
import { eventVersionOf, upcastFields, type EventFields } from './upcasting.ts'

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
  /** A stream event's own id, unique in its stream (see `streamEventId`); null outside streams. */
  readonly eventId: string | null
  /** Its position in the stream, from 1; null outside streams. */
  readonly version: number | null
  /** Its class's `static version` when it was stored (1 without one): loading upcasts older rows. */
  readonly eventVersion: number
  readonly occurredAt: Date
}

/** A row as the database holds it. */
export interface StoredEventRow {
  id: string
  name: string
  payload: string
  tags: string
  correlation_id: string
  causation_id: string | null
  stream_id: string | null
  /** Written for stream events only (a dispatch's row leaves it null). */
  event_id?: string | null
  version: number | string | null
  /** Absent from a new row of version 1: the column's default. */
  event_version?: number | string
  occurred_at: number | string
}

/** What a new row is made of, before it is encoded; its stream version is given at insert. */
export interface NewStoredEvent {
  readonly id: string
  readonly name: string
  readonly event: unknown
  readonly correlationId: string
  readonly causationId: string | null
  readonly streamId: string | null
  /** Epoch milliseconds. */
  readonly occurredAt: number
}

export interface StoredEventsTableDependencies {
  readonly database: () => DatabaseManager
  /** The database connection, or null for the default one. */
  readonly connection: string | null
  readonly table: string
  /** Rebuilds event classes by name (the dispatcher's and discovery's). */
  readonly registry: EventClassRegistry
  readonly redact: Redactor
}

/**
 * The `stored_events` table that the dispatch log and the streams share: where it is (the
 * current `DB.transaction` on its connection, or the connection), how an event becomes a row
 * (redacted, class events tagged with their name) and a row an event again.
 */
export class StoredEventsTable {
  /** Classes met in appends, so a stream can be loaded before any of them is dispatched. */
  private readonly classes = new Map<string, Function>()
  /** The dependencies' registry, and the classes kept by {@link keepClass}. */
  readonly registry: EventClassRegistry

  constructor(private readonly deps: StoredEventsTableDependencies) {
    this.registry = {
      classFor: (name) => this.classes.get(name) ?? deps.registry.classFor(name),
      nameOf: (instance) => deps.registry.nameOf(instance) ?? this.keptName(instance),
    }
  }

  /** The table's name. */
  get name(): string {
    return this.deps.table
  }

  get connectionName(): string {
    return this.deps.connection ?? this.deps.database().defaultConnection
  }

  /** The current transaction on the table's connection, or the connection. */
  async query(): Promise<Knex | Knex.Transaction> {
    const knex = await this.deps.database().connection(this.connectionName)
    return currentTransaction<Knex.Transaction>(knex) ?? knex
  }

  /** Runs `work` in a transaction of its own on the table's connection. */
  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.deps.database().transaction(work, this.connectionName)
  }

  get isSqlite(): boolean {
    return this.deps.database().driver(this.connectionName) === 'sqlite'
  }

  /** A missing table as an error naming the fix (`artisan migrate`); any other error as it is. */
  explain(error: unknown): unknown {
    return explainMissingTable(error, this.name, this.connectionName)
  }

  /** Keeps an event class, so its rows can be rebuilt before it is ever dispatched. Returns its name. */
  keepClass(ctor: Function): string {
    const name = eventClassName(ctor)
    this.classes.set(name, ctor)
    return name
  }

  /** The row for a new event: its payload redacted and encoded, its tags, no version yet. */
  toRow(entry: NewStoredEvent): StoredEventRow {
    const eventVersion = isClassEvent(entry.name, entry.event) ? eventVersionOf(entry.event.constructor) : 1
    return {
      ...(eventVersion === 1 ? {} : { event_version: eventVersion }),
      id: entry.id,
      name: entry.name,
      payload: this.encode(entry.name, entry.event),
      tags: JSON.stringify(tagsOf(entry.name, entry.event)),
      correlation_id: entry.correlationId,
      causation_id: entry.causationId,
      stream_id: entry.streamId,
      version: null,
      occurred_at: entry.occurredAt,
    }
  }

  /**
   * The event a row holds: an instance of its class (rebuilt without running the constructor),
   * or a string event's payload. A row stored at an older `static version` of its class goes
   * through the class's upcasters first. Throws PayloadDecodeError when its class is unknown here.
   */
  rebuild(stored: StoredEvent): unknown {
    const payload = stored.payload
    if (!isEventTag(payload)) return decodeValue(payload, this.registry)
    const ctor = this.registry.classFor(payload.name)
    if (ctor === undefined || eventVersionOf(ctor) === stored.eventVersion) return decodeValue(payload, this.registry)
    // Decoded as a plain object (an escaped one: a field may be named $t), then upcast.
    const fields = decodeValue({ $t: 'Object', v: payload.v }, this.registry) as EventFields
    return Object.assign(Object.create(ctor.prototype as object) as object, upcastFields(ctor, fields, stored.eventVersion))
  }

  /** An aggregate's snapshot state as JSON: redacted, then encoded as the queue serializer does. */
  encodeState(state: unknown): string {
    return JSON.stringify(encodeValue(this.deps.redact(state), this.registry))
  }

  /** A snapshot's state from its JSON. Throws PayloadDecodeError when it holds an event class unknown here. */
  decodeState(json: string): unknown {
    return decodeValue(JSON.parse(json) as unknown, this.registry, 'state')
  }

  /** JSON of the redacted event: a class event tagged with its name, so it can be rebuilt. */
  private encode(name: string, event: unknown): string {
    const redacted = this.deps.redact(event)
    if (!isClassEvent(name, event)) return JSON.stringify(encodeValue(redacted, this.registry))
    const registry: EventClassRegistry = { classFor: this.registry.classFor, nameOf: (value) => (value === redacted ? name : this.registry.nameOf(value)) }
    return JSON.stringify(encodeValue(redacted, registry))
  }

  private keptName(instance: object): string | undefined {
    const ctor = (instance as { constructor?: Function }).constructor
    if (typeof ctor !== 'function') return undefined
    const name = eventClassName(ctor)
    return this.classes.get(name) === ctor ? name : undefined
  }
}

/** A row as the store hands it out. */
export function toStoredEvent(row: StoredEventRow): StoredEvent {
  return {
    id: row.id,
    name: row.name,
    payload: JSON.parse(row.payload) as unknown,
    tags: JSON.parse(row.tags) as string[],
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    streamId: row.stream_id,
    eventId: row.event_id ?? null,
    version: row.version === null ? null : Number(row.version),
    eventVersion: Number(row.event_version ?? 1),
    occurredAt: new Date(Number(row.occurred_at)),
  }
}

/** A payload the serializer wrote for a class event: `{ $t: 'Event', name, v }`. */
function isEventTag(payload: unknown): payload is { $t: 'Event'; name: string; v: Record<string, unknown> } {
  if (typeof payload !== 'object' || payload === null) return false
  const tagged = payload as Record<string, unknown>
  return tagged.$t === 'Event' && typeof tagged.name === 'string' && typeof tagged.v === 'object' && tagged.v !== null && !Array.isArray(tagged.v)
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
