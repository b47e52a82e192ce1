import type { Knex } from 'knex'
import { explainMissingTable } from '../database/missing-table.ts'
import type { BusMessage } from './event-bus-driver.ts'

/** One row of the outbox, with the message it holds. */
export interface OutboxRow {
  readonly rowId: number
  readonly message: BusMessage
}

/**
 * The `event_bus_outbox` table: events published inside a transaction, written with it, until
 * the relay has sent them to the bus.
 *
 * ```ts
 * await outbox.insert(trx, message) // commits or rolls back with trx
 * ```
 */
export class OutboxTable {
  constructor(
    private readonly knex: () => Promise<Knex>,
    readonly table: string,
    /** The database connection's name, for errors. */
    private readonly connectionName: () => string,
  ) {}

  /** The connection the outbox lives on (the transaction's owner a write must go through). */
  connection(): Promise<Knex> {
    return this.knex()
  }

  async insert(db: Knex | Knex.Transaction, message: BusMessage): Promise<void> {
    await this.explained(db(this.table).insert({
      event_id: message.id,
      name: message.name,
      payload: message.payload,
      published_at: message.publishedAt,
      source: message.source,
    }))
  }

  /** The oldest rows, at most `limit`. */
  async take(limit: number): Promise<OutboxRow[]> {
    const rows = (await this.explained((await this.knex())(this.table).select('*').orderBy('id').limit(limit))) as Array<Record<string, unknown>>
    return rows.map((row) => ({
      rowId: Number(row.id),
      message: {
        id: String(row.event_id),
        name: String(row.name),
        payload: String(row.payload),
        publishedAt: Number(row.published_at),
        source: String(row.source),
      },
    }))
  }

  async remove(rowIds: readonly number[]): Promise<void> {
    if (rowIds.length > 0) await (await this.knex())(this.table).whereIn('id', rowIds).delete()
  }

  async count(): Promise<number> {
    const [row] = (await this.explained((await this.knex())(this.table).count({ n: '*' }))) as Array<{ n: number | string }>
    return Number(row?.n ?? 0)
  }

  private async explained<T>(query: PromiseLike<T>): Promise<T> {
    try {
      return await query
    } catch (error) {
      throw explainMissingTable(error, this.table, this.connectionName())
    }
  }
}
