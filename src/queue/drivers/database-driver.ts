import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import { currentTransaction } from '../../database/transactions.ts'
import type { DatabaseManager } from '../../database/database-manager.ts'
import { explainMissingTable } from '../../database/missing-table.ts'
import type { DatabaseConnectionConfig, QueueConnectionConfig } from '../../foundation/config.ts'
import type { ConsumeOptions, DeliveredJob, JobOutcome, PushOptions, QueueDriver } from '../driver.ts'
import type { QueueManager } from '../queue-manager.ts'

type DatabaseQueueConfig = Extract<QueueConnectionConfig, { driver: 'database' }>
type Dialect = DatabaseConnectionConfig['driver']

/** A claimed job, with the reservation time that proves it is still ours when we settle it. */
interface Claim {
  readonly job: DeliveredJob
  readonly rowId: number | string
  readonly reservedAt: number
}

/** A processed job whose outcome is not written yet. */
interface Settlement {
  readonly claim: Claim
  readonly outcome: JobOutcome
}

interface ClaimedRow {
  id: number | string
  queue: string
  payload: string
  attempts: number | string
}

/** A statement and its bindings. */
type Sql = readonly [sql: string, bindings: readonly Knex.Value[]]

/** Attempts at a statement that lost a lock race (MySQL deadlock, SQLite busy) before giving up. */
const TRANSIENT_RETRIES = 5

/**
 * The database queue (Laravel's `database` driver) on knex: SQLite, PostgreSQL, MySQL/MariaDB.
 *
 * Rows live in the `jobs` table (database/migrations). Times are epoch milliseconds, not
 * Laravel's seconds, so sub-second delays and backoffs are honoured. A worker claims a row by
 * setting `reserved_at` and incrementing `attempts` atomically; the row is deleted when the job
 * is done or failed, and put back (`reserved_at` null, a new `available_at`) when released. A
 * row reserved longer than `retryAfter` seconds belongs to a worker that died: it is delivered
 * again, and that delivery counts as an attempt.
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
 * as it would with a separate write. On PostgreSQL that commit does not wait for the WAL flush
 * (see buildStatements: a server crash can only deliver a job again, never lose one).
 *
 * Priority is ignored, as by Laravel's database driver: within a queue, jobs run oldest first.
 */
export class DatabaseDriver implements QueueDriver {
  /** Consumers of this process sleeping on an empty queue, woken by a push or a settled job. */
  private readonly sleepers = new Set<() => void>()
  /** Counts wake-ups, so a consumer can tell that one happened while it was polling. */
  private wakes = 0
  private sql: Statements | null = null

  constructor(
    readonly connection: string,
    private readonly config: DatabaseQueueConfig,
    private readonly db: DatabaseManager,
  ) {}

  private get table(): string {
    return this.config.table
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
    this.wakeSleepers()
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
   * processing it and carrying out the outcome. An empty poll sleeps until the next delayed job
   * is due, at most `sleep` seconds (a push in this process, or the abort, wakes it earlier).
   * Stops taking jobs on abort; with `stopWhenEmpty`, once a poll finds nothing and nothing is
   * in hand. A database error stops every loop after its job in hand and rejects.
   */
  async consume(options: ConsumeOptions): Promise<void> {
    const stop = new AbortController()
    const onAbort = () => stop.abort()
    options.signal.addEventListener('abort', onAbort, { once: true })
    if (options.signal.aborted) stop.abort()
    const state = { inHand: 0 }
    const errors: unknown[] = []
    const loops = Array.from({ length: Math.max(1, options.concurrency) }, async () => {
      try {
        await this.loop(options, state, stop.signal)
      } catch (error) {
        errors.push(error)
        stop.abort()
        this.wakeSleepers()
      }
    })
    try {
      await Promise.all(loops)
    } finally {
      options.signal.removeEventListener('abort', onAbort)
    }
    if (errors.length === 1) throw errors[0]
    if (errors.length > 1) throw new AggregateError(errors, `The database queue "${this.connection}" stopped on ${errors.length} errors`)
  }

  /** Nothing to release: the DatabaseManager owns the connections and closes them at shutdown. */
  async close(): Promise<void> {
    this.wakeSleepers()
  }

  private async loop(options: ConsumeOptions, state: { inHand: number }, stop: AbortSignal): Promise<void> {
    // The previous job's outcome, written with the next claim; it counts as in hand till then.
    let pending: Settlement | null = null
    const settled = () => {
      pending = null
      state.inHand--
      // A released job may be due at once, and a stopWhenEmpty loop waits for jobs in hand.
      this.wakeSleepers()
    }
    try {
      while (!stop.aborted) {
        const wakes = this.wakes
        const carried = pending !== null
        const claim = await this.claim(options.queues, pending)
        if (carried) settled()
        if (claim !== null) {
          state.inHand++
          let outcome: JobOutcome
          try {
            outcome = await options.process(claim.job)
          } catch (error) {
            // `process` never rejects by contract; if it does, the row stays reserved and
            // retryAfter delivers it again.
            state.inHand--
            throw error
          }
          pending = { claim, outcome }
          continue
        }
        // The poll ran beside the write of our last outcome and could not see it (a release
        // may have made that job available again): only a poll after it says "empty".
        if (carried) continue
        if (options.stopWhenEmpty && state.inHand === 0) return
        const wait = await this.untilNextDue(options)
        // A push or a settled job since this poll began would have woken us: look again instead.
        if (this.wakes !== wakes) continue
        await this.sleep(wait, stop)
      }
    } finally {
      const last = pending as Settlement | null
      if (last !== null) {
        try {
          await this.settle(last)
        } finally {
          settled()
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
      const claim = await this.retryTransient(() => this.claimFrom(queue, settle))
      settle = null
      if (claim !== null) return claim
    }
    if (settle !== null) await this.settle(settle)
    return null
  }

  private async claimFrom(queue: string, settle: Settlement | null): Promise<Claim | null> {
    const now = Date.now()
    const expired = now - this.config.retryAfter * 1000
    const sql = await this.statements()
    const rows = await this.query(async (knex): Promise<ClaimedRow[]> => {
      if (this.dialect === 'mysql') {
        return knex.transaction(async (trx) => {
          if (settle !== null) await trx.raw(...this.settlement(settle, sql))
          const [found] = (await trx.raw(sql.select, [queue, now, expired])) as [ClaimedRow[]]
          const row = found[0]
          if (row === undefined) return []
          await trx.raw(sql.reserve, [now, row.id])
          return [{ ...row, attempts: Number(row.attempts) + 1 }]
        })
      }
      if (this.dialect === 'pgsql') {
        // The outcome as a data-modifying WITH clause of the claim itself. A job that outlived
        // retryAfter could be claimable again: never claim the row that clause writes.
        const [statement, bindings] =
          settle === null
            ? [sql.claim, [now, queue, now, expired]]
            : [settle.outcome.kind === 'release' ? sql.claimAfterRelease : sql.claimAfterDelete, [...this.settlement(settle, sql)[1], now, queue, now, expired, settle.claim.rowId]]
        const result = await knex.raw(statement.text, bindings).options({ name: statement.name })
        return (result as { rows: ClaimedRow[] }).rows
      }
      if (settle !== null) await knex.raw(...this.settlement(settle, sql))
      return (await knex.raw(sql.claim.text, [now, queue, now, expired])) as ClaimedRow[]
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
   * job outlived retryAfter and another worker took it over, that worker's reservation stands.
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
    await this.retryTransient(() => this.query((knex) => knex.raw(sql, bindings)))
  }

  /**
   * Milliseconds until a job of these queues could be claimed: the earliest `available_at` of
   * a waiting row, or the moment a reserved row's retryAfter runs out; at most `sleep`.
   */
  private async untilNextDue(options: ConsumeOptions): Promise<number> {
    const cap = Math.max(0, options.sleep * 1000)
    const [row] = await this.query((knex) =>
      knex(this.table)
        .whereIn('queue', [...options.queues])
        .select<Array<{ due: number | string | null }>>(
          knex.raw('min(case when reserved_at is null then available_at else reserved_at + ? end) as due', [this.config.retryAfter * 1000]),
        ),
    )
    if (row?.due === null || row?.due === undefined) return cap
    // A due row we did not get is being claimed by another worker: look again shortly.
    const wait = Math.max(Number(row.due) - Date.now() + 1, 10)
    return Math.min(wait, cap)
  }

  /** Waits `ms`, or less when a push, a settled job or the stop wakes this consumer. */
  private sleep(ms: number, stop: AbortSignal): Promise<void> {
    if (stop.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        stop.removeEventListener('abort', wake)
        this.sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      stop.addEventListener('abort', wake, { once: true })
      this.sleepers.add(wake)
    })
  }

  private wakeSleepers(): void {
    this.wakes++
    for (const wake of [...this.sleepers]) wake()
  }

  /** The claim and settle statements for this table and dialect, built once. */
  private async statements(): Promise<Statements> {
    if (this.sql === null) {
      const knex = await this.db.connection(this.config.database)
      this.sql = buildStatements(knex.raw('??', [this.table]).toQuery(), this.dialect)
    }
    return this.sql
  }

  private async query<T>(run: (knex: Knex) => Promise<T>): Promise<T> {
    const knex = await this.db.connection(this.config.database)
    try {
      return await run(knex)
    } catch (error) {
      throw explainMissingTable(error, this.table, this.config.database ?? this.db.defaultConnection)
    }
  }

  /** Runs `fn` again when it lost a lock race that the database resolved by failing one side. */
  private async retryTransient<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn()
      } catch (error) {
        if (attempt >= TRANSIENT_RETRIES || !isTransient(error)) throw error
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt))
      }
    }
  }
}

/**
 * A statement run often enough to be prepared once per connection on PostgreSQL (a named
 * statement: parsed and planned once, not for every job). The name is derived from the text,
 * so two queue tables on one pool never share a name.
 */
interface Prepared {
  readonly text: string
  readonly name: string
}

/** The hand-written statements of the database queue (bindings in the order noted). */
interface Statements {
  /** Claims the oldest available job of a queue: now, queue, now, expired. */
  readonly claim: Prepared
  /**
   * PostgreSQL: the previous job's delete (id, reservedAt) or release (payload, availableAt,
   * id, reservedAt) as a WITH clause, then `claim` skipping that row: ..., now, queue, now,
   * expired, id.
   */
  readonly claimAfterDelete: Prepared
  readonly claimAfterRelease: Prepared
  /** MySQL: finds and locks that row (queue, now, expired), then reserves it (now, id). */
  readonly select: string
  readonly reserve: string
  /** Settles a job: id, reservedAt; a release also sets payload, availableAt first. */
  readonly delete: string
  readonly release: string
}

/**
 * On PostgreSQL the claim (and the outcome written with it) commits asynchronously
 * (`synchronous_commit` off for that statement's transaction alone, through `set_config`, so
 * the session and every other statement keep the server's setting): the worker does not wait
 * for the WAL flush, which halves what a job costs the server. A server crash can lose the last
 * such commits, which only takes the rows back to an earlier state that still holds the job:
 * a lost claim leaves it available, a lost delete or release leaves it reserved until
 * retryAfter. Either way it is delivered again, as at-least-once allows. Pushes are untouched:
 * a pushed job is as durable as the server makes it.
 */
function buildStatements(table: string, dialect: Dialect): Statements {
  const available = `queue = ? and ((reserved_at is null and available_at <= ?) or reserved_at <= ?)`
  const lock = dialect === 'pgsql' ? ' for update skip locked' : ''
  const returning = `returning id, queue, payload, attempts${dialect === 'pgsql' ? `, set_config('synchronous_commit', 'off', true)` : ''}`
  const claim = (extra: string) =>
    `update ${table} set reserved_at = ?, attempts = attempts + 1 where id = (select id from ${table} where ${available}${extra} order by id limit 1${lock}) ${returning}`
  const remove = `delete from ${table} where id = ? and reserved_at = ?`
  const release = `update ${table} set payload = ?, reserved_at = null, available_at = ? where id = ? and reserved_at = ?`
  return {
    claim: prepared(claim('')),
    claimAfterDelete: prepared(`with settled as (${remove}) ${claim(' and id <> ?')}`),
    claimAfterRelease: prepared(`with settled as (${release}) ${claim(' and id <> ?')}`),
    select: `select id, queue, payload, attempts from ${table} where ${available} order by id limit 1 for update skip locked`,
    reserve: `update ${table} set reserved_at = ?, attempts = attempts + 1 where id = ?`,
    delete: remove,
    release,
  }
}

function prepared(text: string): Prepared {
  return { text, name: `herald_queue_${createHash('sha1').update(text).digest('hex').slice(0, 16)}` }
}

/** MySQL deadlock (1213) or lock wait timeout (1205), PostgreSQL serialization failure or deadlock, SQLite busy. */
function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  return errno === 1213 || errno === 1205 || code === '40001' || code === '40P01' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT'
}

export function createDriver(name: string, config: QueueConnectionConfig, manager: QueueManager): QueueDriver {
  if (config.driver !== 'database') throw new Error(`Queue connection "${name}" is not a database connection.`)
  return new DatabaseDriver(name, config, manager.database())
}
