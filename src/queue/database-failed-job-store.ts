import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { DatabaseManager } from '../database/database-manager.ts'
import { explainMissingTable } from '../database/missing-table.ts'
import { describeFailure, type FailedJob, type FailedJobStore } from './failed-job-store.ts'

interface FailedJobRow {
  id: number | string
  uuid: string
  connection: string
  queue: string
  payload: string
  exception: string
  failed_at: Date | number | string
}

/**
 * Failed jobs in the `failed_jobs` table (database/migrations) of a database connection,
 * whatever queue driver they came from, so `queue:failed`, `queue:retry`, `queue:forget` and
 * `queue:flush` work the same everywhere. The DatabaseManager owns the connection.
 */
export class DatabaseFailedJobStore implements FailedJobStore {
  constructor(
    private readonly db: DatabaseManager,
    private readonly table: string,
    private readonly connection?: string,
  ) {}

  /**
   * Records a job that failed for good. The uuid is the envelope's, so the record can be found
   * by the id the application saw; a job failing again (a retried one, or an at-least-once
   * duplicate) updates its row instead of breaking the unique uuid.
   */
  async log(connection: string, queue: string, payload: string, error: unknown): Promise<FailedJob> {
    const uuid = uuidOf(payload)
    const row = { uuid, connection, queue, payload, exception: describeFailure(error), failed_at: new Date() }
    await this.query(async (knex) => {
      await knex(this.table).insert(row).onConflict('uuid').merge(['connection', 'queue', 'payload', 'exception', 'failed_at'])
    })
    const stored = await this.find(uuid)
    if (stored === null) throw new Error(`The failed job ${uuid} was written to "${this.table}" but cannot be read back.`)
    return stored
  }

  /** Every failed job, newest first. */
  async all(): Promise<FailedJob[]> {
    const rows = await this.query((knex) => knex(this.table).select<FailedJobRow[]>('*').orderBy('id', 'desc'))
    return rows.map(toFailedJob)
  }

  /** By numeric id or by uuid. */
  async find(id: string): Promise<FailedJob | null> {
    const row = await this.query((knex) => this.whereId(knex(this.table), id).first<FailedJobRow | undefined>())
    return row === undefined ? null : toFailedJob(row)
  }

  async forget(id: string): Promise<boolean> {
    const deleted = await this.query((knex) => this.whereId(knex(this.table), id).delete())
    return deleted > 0
  }

  /** Deletes all, or those that failed more than `hours` ago; resolves to how many. */
  async flush(hours?: number): Promise<number> {
    return this.query((knex) => {
      const query = knex(this.table)
      if (hours !== undefined) query.where('failed_at', '<', new Date(Date.now() - hours * 3_600_000))
      return query.delete()
    })
  }

  /** Nothing to do: the DatabaseManager closes its connections at shutdown. */
  async close(): Promise<void> {}

  private whereId(query: Knex.QueryBuilder, id: string): Knex.QueryBuilder {
    // Only a numeric id is compared with the id column: PostgreSQL rejects text against bigint.
    return /^\d+$/.test(id) ? query.where('id', Number(id)).orWhere('uuid', id) : query.where('uuid', id)
  }

  private async query<T>(run: (knex: Knex) => Promise<T> | Knex.QueryBuilder): Promise<T> {
    const knex = await this.db.connection(this.connection)
    try {
      return (await run(knex)) as T
    } catch (error) {
      throw explainMissingTable(error, this.table, this.connection ?? this.db.defaultConnection)
    }
  }
}

/** The envelope's uuid when the payload is a JSON object carrying one; a new one otherwise. */
function uuidOf(payload: string): string {
  try {
    const uuid = (JSON.parse(payload) as { uuid?: unknown } | null)?.uuid
    if (typeof uuid === 'string' && uuid.length > 0 && uuid.length <= 255) return uuid
  } catch {
    // A garbage payload is exactly what failed_jobs must still be able to hold.
  }
  return randomUUID()
}

function toFailedJob(row: FailedJobRow): FailedJob {
  return {
    id: Number(row.id),
    uuid: row.uuid,
    connection: row.connection,
    queue: row.queue,
    payload: row.payload,
    exception: row.exception,
    failedAt: toDate(row.failed_at),
  }
}

/** knex gives a Date on PostgreSQL and MySQL; on SQLite the epoch milliseconds knex bound. */
function toDate(value: Date | number | string): Date {
  if (value instanceof Date) return value
  if (typeof value === 'number' || /^\d+$/.test(value)) return new Date(Number(value))
  // SQLite's CURRENT_TIMESTAMP default is UTC without a zone.
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`)
}
