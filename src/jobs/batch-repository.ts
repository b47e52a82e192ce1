import type { Knex } from 'knex'
import type { DatabaseManager } from '../database/database-manager.ts'
import { explainMissingTable } from '../database/missing-table.ts'

/** A batch as the `job_batches` table holds it. */
export interface BatchRecord {
  readonly id: string
  readonly name: string
  readonly totalJobs: number
  readonly pendingJobs: number
  readonly failedJobs: number
  /** The uuids of its jobs that failed (and have not succeeded on a retry since). */
  readonly failedJobIds: readonly string[]
  /** The encoded callbacks and options (see batch.ts), opaque here. */
  readonly options: Readonly<Record<string, unknown>>
  readonly cancelledAt: Date | null
  readonly createdAt: Date
  readonly finishedAt: Date | null
}

/** What a job's success or failure did to its batch, decided under the row's lock. */
export interface BatchCount {
  readonly batch: BatchRecord
  /** This call took pending_jobs to 0: every job has succeeded (`then`). */
  readonly allSucceeded: boolean
  /** This call made every job run at least once (pending = failed: `finally`). */
  readonly allRan: boolean
  /** This call recorded the batch's first failure (`catch`). */
  readonly firstFailure: boolean
}

interface BatchRow {
  id: string
  name: string
  total_jobs: number | string
  pending_jobs: number | string
  failed_jobs: number | string
  failed_job_ids: string
  options: string
  cancelled_at: number | string | null
  created_at: number | string
  finished_at: number | string | null
}

/**
 * The `job_batches` table. A plain success on PostgreSQL or SQLite is one atomic UPDATE ...
 * RETURNING; every other change of a count happens in a transaction whose first statement is an
 * UPDATE of the row: that takes the row's lock (PostgreSQL, MySQL) or the database's write lock
 * (SQLite) before anything is read, so workers that finish jobs of one batch at the same moment
 * queue up behind each other and no count is lost.
 */
export class BatchRepository {
  constructor(
    private readonly db: DatabaseManager,
    private readonly table = 'job_batches',
    private readonly connection?: string,
  ) {}

  async create(batch: { id: string; name: string; totalJobs: number; options: Record<string, unknown> }): Promise<BatchRecord> {
    const now = Date.now()
    await this.query((knex) =>
      knex(this.table).insert({
        id: batch.id,
        name: batch.name,
        total_jobs: batch.totalJobs,
        pending_jobs: batch.totalJobs,
        failed_jobs: 0,
        failed_job_ids: '[]',
        options: JSON.stringify(batch.options),
        cancelled_at: null,
        created_at: now,
        finished_at: batch.totalJobs === 0 ? now : null,
      }),
    )
    const created = await this.find(batch.id)
    if (created === null) throw new Error(`The batch ${batch.id} was written to "${this.table}" but cannot be read back.`)
    return created
  }

  async find(id: string): Promise<BatchRecord | null> {
    const row = await this.query((knex) => knex(this.table).where('id', id).first<BatchRow | undefined>())
    return row === undefined ? null : toRecord(row)
  }

  /** The batches, newest first (at most `limit`). */
  async list(limit = 50, unfinishedOnly = false): Promise<BatchRecord[]> {
    const rows = await this.query((knex) => {
      const query = knex(this.table).select<BatchRow[]>('*').orderBy('created_at', 'desc').limit(limit)
      if (unfinishedOnly) query.whereNull('finished_at')
      return query
    })
    return rows.map(toRecord)
  }

  /** Adds `count` jobs to the batch's total and pending counts (`batch.add([...])`). */
  async addJobs(id: string, count: number): Promise<BatchRecord> {
    const added = await this.locked(id, async (trx, row) => {
      await trx(this.table)
        .where('id', id)
        .update({ total_jobs: trx.raw('total_jobs + ?', [count]), pending_jobs: trx.raw('pending_jobs + ?', [count]), finished_at: null })
      return toRecord({ ...row, total_jobs: Number(row.total_jobs) + count, pending_jobs: Number(row.pending_jobs) + count, finished_at: null })
    })
    if (added === null) throw new Error(`No job batch with id ${id} in "${this.table}": was it pruned?`)
    return added
  }

  /** A job of the batch succeeded: one fewer pending, and it is no longer a failed one (a retry); null when the batch is gone (pruned). */
  async recordSuccess(id: string, jobId: string): Promise<BatchCount | null> {
    const counted = await this.countSuccessAtOnce(id)
    if (counted !== null) return counted
    return this.locked(id, async (trx, row) => {
      const failedIds = parseIds(row.failed_job_ids).filter((failed) => failed !== jobId)
      const pending = Number(row.pending_jobs) - 1
      const failed = Number(row.failed_jobs)
      const allRan = pending - failed === 0
      const finishedAt = allRan || pending === 0 ? (row.finished_at ?? Date.now()) : row.finished_at
      await trx(this.table)
        .where('id', id)
        .update({ pending_jobs: trx.raw('pending_jobs - 1'), failed_job_ids: JSON.stringify(failedIds), finished_at: finishedAt })
      const batch = toRecord({ ...row, pending_jobs: pending, failed_job_ids: JSON.stringify(failedIds), finished_at: finishedAt })
      return { batch, allSucceeded: pending === 0, allRan, firstFailure: false }
    })
  }

  /** A job of the batch failed for good (once per job: a retried job failing again is not counted twice); null when the batch is gone. */
  async recordFailure(id: string, jobId: string): Promise<BatchCount | null> {
    return this.locked(id, async (trx, row) => {
      const failedIds = parseIds(row.failed_job_ids)
      if (failedIds.includes(jobId)) return { batch: toRecord(row), allSucceeded: false, allRan: false, firstFailure: false }
      failedIds.push(jobId)
      const pending = Number(row.pending_jobs)
      const failed = Number(row.failed_jobs) + 1
      const allRan = pending - failed === 0
      const finishedAt = allRan ? (row.finished_at ?? Date.now()) : row.finished_at
      await trx(this.table)
        .where('id', id)
        .update({ failed_jobs: trx.raw('failed_jobs + 1'), failed_job_ids: JSON.stringify(failedIds), finished_at: finishedAt })
      const batch = toRecord({ ...row, failed_jobs: failed, failed_job_ids: JSON.stringify(failedIds), finished_at: finishedAt })
      return { batch, allSucceeded: false, allRan, firstFailure: failed === 1 }
    })
  }

  /** Marks the batch cancelled (its jobs that have not started yet skip their work). */
  async cancel(id: string): Promise<void> {
    await this.query((knex) => knex(this.table).where('id', id).whereNull('cancelled_at').update({ cancelled_at: Date.now() }))
  }

  /** Deletes finished batches that finished before `before`; resolves to how many. */
  async prune(before: Date): Promise<number> {
    return this.query((knex) => knex(this.table).whereNotNull('finished_at').where('finished_at', '<', before.getTime()).delete())
  }

  /**
   * The usual success (no failed job waiting for a retry), on PostgreSQL and SQLite: one UPDATE
   * ... RETURNING, atomic by itself, so concurrent workers hold the row's lock for one statement
   * instead of a transaction of four. Null when it does not apply (MySQL has no UPDATE ...
   * RETURNING; a batch with failed jobs, or none at all): the locked transaction decides then.
   */
  private async countSuccessAtOnce(id: string): Promise<BatchCount | null> {
    if (this.db.driver(this.connection) === 'mysql') return null
    const rows = await this.query(
      (knex) =>
        knex(this.table)
          .where('id', id)
          .where('failed_job_ids', '[]')
          .update(
            {
              pending_jobs: knex.raw('pending_jobs - 1'),
              // Set-clause columns are the row's old values: pending_jobs - 1 is the new count.
              finished_at: knex.raw('CASE WHEN finished_at IS NULL AND (pending_jobs - 1 = 0 OR pending_jobs - 1 - failed_jobs = 0) THEN ? ELSE finished_at END', [Date.now()]),
            },
            '*',
          ) as unknown as Promise<BatchRow[]>,
    )
    const row = rows[0]
    if (row === undefined) return null
    const pending = Number(row.pending_jobs)
    return { batch: toRecord(row), allSucceeded: pending === 0, allRan: pending - Number(row.failed_jobs) === 0, firstFailure: false }
  }

  /**
   * Runs `work` in a transaction that first locks the batch's row with an UPDATE that changes
   * nothing (FOR UPDATE is ignored by SQLite, whose deferred transactions would otherwise read
   * before they lock), then reads it.
   */
  private async locked<T>(id: string, work: (trx: Knex.Transaction, row: BatchRow) => Promise<T>): Promise<T | null> {
    return this.query((knex) =>
      knex.transaction(async (trx) => {
        const touched = await trx(this.table).where('id', id).update({ pending_jobs: trx.raw('pending_jobs') })
        if (touched === 0) return null
        const row = await trx(this.table).where('id', id).first<BatchRow | undefined>()
        return work(trx, row!)
      }),
    )
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

function parseIds(text: string): string[] {
  try {
    const ids = JSON.parse(text) as unknown
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []
  } catch {
    return []
  }
}

function toDate(value: number | string | null): Date | null {
  return value === null ? null : new Date(Number(value))
}

function toRecord(row: BatchRow): BatchRecord {
  let options: Record<string, unknown> = {}
  try {
    const parsed = JSON.parse(row.options) as unknown
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) options = parsed as Record<string, unknown>
  } catch {
    // An unreadable options column: the batch has no callbacks.
  }
  return {
    id: row.id,
    name: row.name,
    totalJobs: Number(row.total_jobs),
    pendingJobs: Number(row.pending_jobs),
    failedJobs: Number(row.failed_jobs),
    failedJobIds: parseIds(row.failed_job_ids),
    options,
    cancelledAt: toDate(row.cancelled_at),
    createdAt: toDate(row.created_at)!,
    finishedAt: toDate(row.finished_at),
  }
}
