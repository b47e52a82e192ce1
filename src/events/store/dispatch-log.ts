import type { Knex } from 'knex'
import type { DispatchRecord } from '../dispatch-contracts.ts'
import { toStoredEvent, type StoredEvent, type StoredEventRow, type StoredEventsTable } from './stored-events-table.ts'

/** Which stored events to read. Every field is optional; ids and dates are inclusive. */
export interface StoredEventFilter {
  /** Only these event names. */
  readonly events?: readonly string[]
  /** Only events whose class has this tag (`static tags`). On SQLite and MySQL the match may ignore case. */
  readonly tag?: string
  /** Only the events of this stream (an aggregate's id). */
  readonly streamId?: string
  /** Only the events of this correlation chain. */
  readonly correlationId?: string
  readonly since?: Date
  readonly until?: Date
  /** From this id on (ULIDs sort by time). */
  readonly from?: string
  readonly to?: string
  readonly limit?: number
  /** By id: oldest first (the default) or newest first. */
  readonly order?: 'asc' | 'desc'
}

/**
 * The log of dispatches: every dispatched event written as a row (by the store middleware),
 * and the reads over all rows, stream events included, that `event:history` and replays use.
 *
 * ```ts
 * const log = new DispatchLog(table)
 * for (const stored of await log.history({ events: ['OrderPlaced'], limit: 10 })) console.log(stored.id)
 * ```
 */
export class DispatchLog {
  constructor(private readonly table: StoredEventsTable) {}

  /**
   * Writes one dispatch: through the current `DB.transaction` on the store's connection when
   * there is one, so it commits or rolls back with it.
   */
  async write(record: DispatchRecord): Promise<void> {
    const row = this.table.toRow({
      id: record.id,
      name: record.name,
      event: record.event,
      correlationId: record.correlationId,
      causationId: record.causationId,
      streamId: null,
      occurredAt: record.occurredAt.getTime(),
    })
    const db = await this.table.query()
    try {
      await db(this.table.name).insert(row)
    } catch (error) {
      throw this.table.explain(error)
    }
  }

  /** Stored events matching `filter`, oldest first unless `order: 'desc'`. */
  async history(filter: StoredEventFilter = {}): Promise<StoredEvent[]> {
    return this.select(filter, null)
  }

  /** How many stored events match `filter` (its limit and order aside). */
  async count(filter: StoredEventFilter = {}): Promise<number> {
    const db = await this.table.query()
    try {
      const [row] = (await filtered(db(this.table.name), filter).count({ count: '*' })) as Array<{ count: number | string }>
      return Number(row?.count ?? 0)
    } catch (error) {
      throw this.table.explain(error)
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
   * Deletes the dispatch log's rows that occurred before `olderThan`, `batchSize` at a time (so
   * no one statement holds its locks for long); the rows of event-sourced streams are never
   * deleted. Resolves to how many rows went.
   *
   * ```ts
   * await log.prune(new Date(Date.now() - 90 * 86_400_000))   // 1234
   * ```
   */
  async prune(olderThan: Date, batchSize = 1000): Promise<number> {
    const db = await this.table.query()
    let deleted = 0
    try {
      for (;;) {
        const ids = (await db(this.table.name).whereNull('stream_id').andWhere('occurred_at', '<', olderThan.getTime()).orderBy('id').limit(batchSize).pluck('id')) as string[]
        if (ids.length === 0) return deleted
        // Still outside streams: a row's stream never changes, but the filter costs nothing here.
        deleted += await db(this.table.name).whereIn('id', ids).whereNull('stream_id').delete()
        if (ids.length < batchSize) return deleted
      }
    } catch (error) {
      throw this.table.explain(error)
    }
  }

  /** Rows matching `filter`, after the id `after` when given. */
  private async select(filter: StoredEventFilter, after: string | null): Promise<StoredEvent[]> {
    const db = await this.table.query()
    const query = filtered(db(this.table.name).select('*'), filter).orderBy('id', filter.order ?? 'asc')
    if (after !== null) query.where('id', '>', after)
    if (filter.limit !== undefined) query.limit(filter.limit)
    try {
      return ((await query) as StoredEventRow[]).map(toStoredEvent)
    } catch (error) {
      throw this.table.explain(error)
    }
  }
}

function filtered(query: Knex.QueryBuilder, filter: StoredEventFilter): Knex.QueryBuilder {
  if (filter.events !== undefined && filter.events.length > 0) query.whereIn('name', [...filter.events])
  if (filter.tag !== undefined) query.whereRaw("?? like ? escape '!'", ['tags', `%${likeEscaped(JSON.stringify(filter.tag))}%`])
  if (filter.streamId !== undefined) query.where('stream_id', filter.streamId)
  if (filter.correlationId !== undefined) query.where('correlation_id', filter.correlationId)
  if (filter.since !== undefined) query.where('occurred_at', '>=', filter.since.getTime())
  if (filter.until !== undefined) query.where('occurred_at', '<=', filter.until.getTime())
  if (filter.from !== undefined) query.where('id', '>=', filter.from)
  if (filter.to !== undefined) query.where('id', '<=', filter.to)
  return query
}

/** `text` matched literally by LIKE ... ESCAPE '!': its wildcards and the escape itself escaped. */
function likeEscaped(text: string): string {
  return text.replace(/[!%_]/g, (char) => `!${char}`)
}
