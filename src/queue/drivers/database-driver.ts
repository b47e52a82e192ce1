import type { Knex } from 'knex'
import { currentTransaction } from '../../database/transactions.ts'
import type { DatabaseManager } from '../../database/database-manager.ts'
import { explainMissingTable } from '../../database/missing-table.ts'
import { UserError } from '../../foundation/errors.ts'
import type { QueueConnectionConfig } from '../../foundation/config.ts'
import { isConnectionError, ServiceUnreachableError } from '../../foundation/service-errors.ts'
import type { ConsumeOptions, JobOutcome, PushOptions, QueueDriver } from '../driver.ts'
import type { QueueManager } from '../queue-manager.ts'
import { DEFAULT_RECONNECT_POLICY, ReconnectTracker } from '../reconnect.ts'
import { ABORTED, firstLine, healing, heartbeatFailed, settleLast, type Consuming, type Settlement } from './database-healing.ts'
import { DEFAULT_LEASE, LeaseKeeper, type Claim, type LeaseStore } from './database-leases.ts'
import { LapseWatch, type ReservedRow } from './database-reclaim.ts'
import { Sleepers } from './database-sleepers.ts'
import { buildStatements, isMissingColumnError, retryTransient, type Dialect, type Statements } from './database-statements.ts'

type DatabaseQueueConfig = Extract<QueueConnectionConfig, { driver: 'database' }>

interface ClaimedRow {
  id: number | string
  queue: string
  payload: string
  attempts: number | string
}

/** A statement and its bindings. */
type Sql = readonly [sql: string, bindings: readonly Knex.Value[]]


/**
 * The database queue (Laravel's `database` driver) on knex: SQLite, PostgreSQL, MySQL/MariaDB.
 *
 * Rows live in the `jobs` table (database/migrations). Times are epoch milliseconds, not
 * Laravel's seconds, so sub-second delays and backoffs are honoured. A worker claims a row by
 * setting `reserved_at` (the claim's token), a lease (`lease_expires_at`) and incrementing
 * `attempts` atomically; it renews the leases of its jobs in hand every third of a lease (see
 * LeaseKeeper). The row is deleted when the job is done or failed, and put back (`reserved_at`
 * null, a new `available_at`) when released. A row whose lease lapsed belongs to a worker that
 * died or lost its connection: it is delivered again, and that delivery counts as an attempt.
 * (Laravel's `retry_after`, a fixed reclaim time, is what the lease replaces.)
 *
 * Claiming, per dialect:
 * - PostgreSQL: one `UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`.
 * - MySQL/MariaDB: `SELECT ... FOR UPDATE SKIP LOCKED` then `UPDATE`, in one transaction
 *   (no UPDATE ... RETURNING there).
 * - SQLite: the same single `UPDATE ... RETURNING` without the lock clause. SQLite serialises
 *   writers, and a writing statement takes the write lock before it reads, so the sub-select
 *   and the update see the same state and two processes never take the same row.
 *
 * A loop writes a finished job's outcome together with its next claim (in the same statement on
 * PostgreSQL, the same transaction on MySQL): one commit per job instead of two, which is what
 * bounds throughput. The job stays reserved until then, so a crash in between delivers it again,
 * as it would with a separate write. Both writes are idempotent (they match the claim's token),
 * so after a lost connection the loop simply tries the same write again (see `healing`): the
 * job in hand is settled once the database is back, not run again.
 *
 * Priority is ignored, as by Laravel's database driver: within a queue, jobs run oldest first.
 */
export class DatabaseDriver implements QueueDriver {
  /** Consumers of this process sleeping on an empty queue, woken by a push or a settled job. */
  private readonly sleepers = new Sleepers()
  private sql: Statements | null = null
  private readonly leaseMs: number

  constructor(
    readonly connection: string,
    private readonly config: DatabaseQueueConfig,
    private readonly db: DatabaseManager,
  ) {
    const lease = config.lease ?? DEFAULT_LEASE
    if (!Number.isFinite(lease) || lease <= 0) {
      throw new UserError(`Queue connection "${connection}": lease must be a number of seconds above 0 (config/queue.ts, QUEUE_LEASE), got ${String(lease)}.`)
    }
    this.leaseMs = Math.round(lease * 1000)
  }

  private get table(): string {
    return this.config.table
  }

  private get databaseName(): string {
    return this.config.database ?? this.db.defaultConnection
  }

  private get dialect(): Dialect {
    return this.db.driver(this.config.database)
  }

  /** Inserts a row; `priority` is ignored (see the class comment). Resolves to the row id. */
  async push(payload: string, options: PushOptions): Promise<string> {
    const now = Date.now()
    const row = {
      queue: options.queue,
      payload,
      attempts: 0,
      reserved_at: null,
      available_at: now + Math.max(0, Math.round(options.delay * 1000)),
      created_at: now,
    }
    const id = await this.query(async (connection) => {
      // Inside DB.transaction on this connection, the job commits or rolls back with it.
      const knex = currentTransaction<Knex.Transaction>(connection) ?? connection
      if (this.dialect === 'pgsql') {
        const [inserted] = await knex(this.table).insert(row).returning<Array<{ id: number | string }>>('id')
        return inserted!.id
      }
      const [inserted] = await knex(this.table).insert(row)
      return inserted!
    })
    this.sleepers.wake()
    return String(id)
  }

  /** Every row of the queue: waiting, delayed and reserved (Laravel counts them all). */
  async size(queue: string): Promise<number> {
    const [row] = await this.query((knex) => knex(this.table).where('queue', queue).count<Array<{ count: number | string }>>({ count: '*' }))
    return Number(row?.count ?? 0)
  }

  /** Deletes every row of the queue, as Laravel does; a worker finishing one of them finds it gone. */
  async clear(queue: string): Promise<number> {
    return this.query((knex) => knex(this.table).where('queue', queue).delete())
  }

  /**
   * Runs `concurrency` loops, each claiming the next available job (earlier queues first),
   * processing it and carrying out the outcome, while a heartbeat renews the leases of the jobs
   * in hand. An empty poll sleeps until the next delayed job is due, at most `sleep` seconds
   * (a push in this process, or the abort, wakes it earlier). Stops taking jobs on abort; with
   * `stopWhenEmpty`, once a poll finds nothing, nothing is in hand, and no other worker's job
   * is waiting for its lease to lapse. A lost connection is waited out (`reconnect`); after
   * `reconnect.maxDisconnected` seconds, or on any other database error, every loop stops after
   * its job in hand and this rejects.
   */
  async consume(options: ConsumeOptions): Promise<void> {
    const stop = new AbortController()
    // The heartbeat outlives the stop: jobs in hand keep their leases while they finish.
    const heartbeat = new AbortController()
    const onAbort = () => stop.abort()
    options.signal.addEventListener('abort', onAbort, { once: true })
    if (options.signal.aborted) stop.abort()
    const warn = options.warn ?? (() => {})
    const policy = options.reconnect ?? DEFAULT_RECONNECT_POLICY
    const run: Consuming = {
      options,
      stop: stop.signal,
      tracker: new ReconnectTracker(policy),
      policy,
      leases: new LeaseKeeper(this.leaseStore(), this.leaseMs, warn),
      warn,
      inHand: 0,
      lapses: new LapseWatch(warn),
    }
    const beating = run.leases.run(
      heartbeat.signal,
      () => run.tracker.succeeded(),
      (error) => heartbeatFailed(run, error),
    )
    const errors: unknown[] = []
    const loops = Array.from({ length: Math.max(1, options.concurrency) }, async () => {
      try {
        await this.loop(run)
      } catch (error) {
        errors.push(error)
        stop.abort()
        this.sleepers.wake()
      }
    })
    try {
      await Promise.all(loops)
    } finally {
      options.signal.removeEventListener('abort', onAbort)
      heartbeat.abort()
      await beating
    }
    // Loops that gave up on the same outage say it once.
    if (errors.length > 0 && errors.every((error) => error instanceof ServiceUnreachableError)) throw errors[0]
    if (errors.length === 1) throw errors[0]
    if (errors.length > 1) throw new AggregateError(errors, `The database queue "${this.connection}" stopped on ${errors.length} errors`)
  }

  /** Nothing to release: the DatabaseManager owns the connections and closes them at shutdown. */
  async close(): Promise<void> {
    this.sleepers.wake()
  }

  private async loop(run: Consuming): Promise<void> {
    const { options, stop } = run
    // The previous job's outcome, written with the next claim; it counts as in hand till then.
    let pending: Settlement | null = null
    let failed = false
    const settled = (settlement: Settlement) => {
      pending = null
      run.inHand--
      run.leases.drop(settlement.claim)
      // A released job may be due at once, and a stopWhenEmpty loop waits for jobs in hand.
      this.sleepers.wake()
    }
    try {
      while (!stop.aborted) {
        const wakes = this.sleepers.wakes
        const carried: Settlement | null = pending
        const claim: Claim | null | typeof ABORTED = await healing(run, () => this.claim(options.queues, carried))
        if (claim === ABORTED) break
        if (carried !== null) settled(carried)
        if (claim !== null) {
          run.leases.hold(claim)
          run.inHand++
          if (run.lapses.wasWatched(claim.job.id)) {
            run.warn(`Reclaimed job ${claim.job.id} (attempt ${claim.job.attempts}): the worker holding it stopped renewing its lease.`)
          }
          let outcome: JobOutcome
          try {
            outcome = await options.process(claim.job)
          } catch (error) {
            // `process` never rejects by contract; if it does, the row stays reserved until
            // its lease lapses, and is delivered again.
            run.inHand--
            run.leases.drop(claim)
            throw error
          }
          pending = { claim, outcome }
          continue
        }
        // The poll ran beside the write of our last outcome and could not see it (a release
        // may have made that job available again): only a poll after it says "empty".
        if (carried !== null) continue
        if (options.stopWhenEmpty && run.inHand === 0) {
          const wait = await healing(run, () => this.untilLapsed(run))
          if (wait === ABORTED) break
          if (wait === null) return
          await this.sleepers.sleep(wait, stop)
          continue
        }
        const wait = await healing(run, () => this.untilNextDue(options))
        if (wait === ABORTED) break
        // A push or a settled job since this poll began would have woken us: look again instead.
        if (this.sleepers.wakes !== wakes) continue
        await this.sleepers.sleep(wait, stop)
      }
    } catch (error) {
      failed = true
      throw error
    } finally {
      const last = pending as Settlement | null
      if (last !== null) {
        try {
          await settleLast(run, last, failed, (settlement) => this.settle(settlement))
        } finally {
          settled(last)
        }
      }
    }
  }

  /**
   * Claims the oldest available job of the first queue that has one, writing `pending` (the
   * loop's previous outcome) in the first claim's statement or transaction.
   */
  private async claim(queues: readonly string[], pending: Settlement | null): Promise<Claim | null> {
    let settle = pending
    for (const queue of queues) {
      const claim = await retryTransient(() => this.claimFrom(queue, settle))
      settle = null
      if (claim !== null) return claim
    }
    if (settle !== null) await this.settle(settle)
    return null
  }

  private async claimFrom(queue: string, settle: Settlement | null): Promise<Claim | null> {
    const now = Date.now()
    const lease = now + this.leaseMs
    const sql = await this.statements()
    const rows = await this.query(async (knex): Promise<ClaimedRow[]> => {
      if (this.dialect === 'mysql') {
        return knex.transaction(async (trx) => {
          if (settle !== null) await trx.raw(...this.settlement(settle, sql))
          const [found] = (await trx.raw(sql.select, [queue, now, now])) as [ClaimedRow[]]
          const row = found[0]
          if (row === undefined) return []
          await trx.raw(sql.reserve, [now, lease, row.id])
          return [{ ...row, attempts: Number(row.attempts) + 1 }]
        })
      }
      if (this.dialect === 'pgsql') {
        // The outcome as a data-modifying WITH clause of the claim itself. A job whose lease
        // lapsed could be claimable again: never claim the row that clause writes.
        const [statement, bindings] =
          settle === null
            ? [sql.claim, [now, lease, queue, now, now]]
            : [
                settle.outcome.kind === 'release' ? sql.claimAfterRelease : sql.claimAfterDelete,
                [...this.settlement(settle, sql)[1], now, lease, queue, now, now, settle.claim.rowId],
              ]
        const result = await knex.raw(statement.text, bindings).options({ name: statement.name })
        return (result as { rows: ClaimedRow[] }).rows
      }
      if (settle !== null) await knex.raw(...this.settlement(settle, sql))
      return (await knex.raw(sql.claim.text, [now, lease, queue, now, now])) as ClaimedRow[]
    })
    const row = rows[0]
    if (row === undefined) return null
    return {
      job: { id: String(row.id), queue: row.queue, payload: row.payload, attempts: Number(row.attempts) },
      rowId: row.id,
      reservedAt: now,
    }
  }

  /**
   * The statement carrying out the runner's decision. It also matches our `reserved_at`: if the
   * job's lease lapsed and another worker took it over, that worker's reservation stands.
   */
  private settlement({ claim, outcome }: Settlement, sql: Statements): Sql {
    if (outcome.kind === 'release') {
      const availableAt = Date.now() + Math.max(0, Math.round(outcome.delay * 1000))
      return [sql.release, [outcome.payload, availableAt, claim.rowId, claim.reservedAt]]
    }
    return [sql.delete, [claim.rowId, claim.reservedAt]]
  }

  /** Writes an outcome on its own, when no claim follows it. */
  private async settle(settle: Settlement): Promise<void> {
    const [sql, bindings] = this.settlement(settle, await this.statements())
    await retryTransient(() => this.query((knex) => knex.raw(sql, bindings)))
  }

  /**
   * Milliseconds until a job of these queues could be claimed: the earliest `available_at` of
   * a waiting row, or the moment a reserved row's lease runs out; at most `sleep`.
   */
  private async untilNextDue(options: ConsumeOptions): Promise<number> {
    const cap = Math.max(0, options.sleep * 1000)
    const [row] = await this.query((knex) =>
      knex(this.table)
        .whereIn('queue', [...options.queues])
        .select<Array<{ due: number | string | null }>>(knex.raw('min(case when reserved_at is null then available_at else lease_expires_at end) as due')),
    )
    if (row?.due === null || row?.due === undefined) return cap
    // A due row we did not get is being claimed by another worker: look again shortly.
    const wait = Math.max(Number(row.due) - Date.now() + 1, 10)
    return Math.min(wait, cap)
  }

  /**
   * stopWhenEmpty, with nothing to claim and nothing in hand: milliseconds to wait for rows
   * other workers reserved whose lease has not moved since this consumer first saw it (their
   * worker may be dead: once the lease lapses, the next claim takes the job), or null when
   * there are none. A lease that moved on belongs to a live worker, which settles its job
   * itself: so two stop-when-empty workers never wait for each other for more than a beat.
   */
  private async untilLapsed(run: Consuming): Promise<number | null> {
    const rows = await this.query((knex) =>
      knex(this.table)
        .whereIn('queue', [...run.options.queues])
        .whereNotNull('reserved_at')
        .select<ReservedRow[]>('id', 'lease_expires_at')
        .limit(1_000),
    )
    return run.lapses.wait(rows, run.leases.interval)
  }

  /** The heartbeat's statements: one UPDATE for every job in hand, matching each claim's token. */
  private leaseStore(): LeaseStore {
    const ours = (claims: readonly Claim[]) => (query: Knex.QueryBuilder) => {
      for (const claim of claims) query.orWhere((one) => one.where('id', claim.rowId).andWhere('reserved_at', claim.reservedAt))
    }
    return {
      renew: (claims, expiresAt) =>
        retryTransient(() => this.query((knex) => knex(this.table).where(ours(claims)).update({ lease_expires_at: expiresAt }))),
      owned: async (claims) => {
        const rows = await this.query((knex) => knex(this.table).where(ours(claims)).select<Array<{ id: number | string }>>('id'))
        const ids = new Set(rows.map((row) => String(row.id)))
        return new Set(claims.filter((claim) => ids.has(String(claim.rowId))))
      },
    }
  }

  /** The claim and settle statements for this table and dialect, built once. */
  private async statements(): Promise<Statements> {
    if (this.sql === null) {
      const knex = await this.db.connection(this.config.database)
      this.sql = buildStatements(knex.raw('??', [this.table]).toQuery(), this.dialect)
    }
    return this.sql
  }

  /**
   * Runs a statement; a lost or refused connection becomes a ServiceUnreachableError naming the
   * database and its address, a missing table or column one that names the migration.
   */
  private async query<T>(run: (knex: Knex) => Promise<T>): Promise<T> {
    try {
      const knex = await this.db.connection(this.config.database)
      return await run(knex)
    } catch (error) {
      throw this.explain(error)
    }
  }

  private explain(error: unknown): unknown {
    if (error instanceof ServiceUnreachableError) return error
    if (isConnectionError(error)) return new ServiceUnreachableError(`Database "${this.databaseName}"`, this.db.address(this.config.database), error)
    if (isMissingColumnError(error)) {
      return new UserError(
        `The table "${this.table}" on database connection "${this.databaseName}" is missing a column of the queue (${firstLine(error)}): run "artisan migrate" (with --database=${this.databaseName} if it is not the default).`,
      )
    }
    return explainMissingTable(error, this.table, this.databaseName)
  }
}

export function createDriver(name: string, config: QueueConnectionConfig, manager: QueueManager): QueueDriver {
  if (config.driver !== 'database') throw new Error(`Queue connection "${name}" is not a database connection.`)
  return new DatabaseDriver(name, config, manager.database())
}
