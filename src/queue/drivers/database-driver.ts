import type { Knex } from 'knex'
import { afterCommit, currentTransaction } from '../../database/transactions.ts'
import type { DatabaseManager } from '../../database/database-manager.ts'
import { explainMissingTable } from '../../database/missing-table.ts'
import { UserError } from '../../foundation/errors.ts'
import type { QueueConnectionConfig } from '../../foundation/config.ts'
import { isConnectionError, ServiceUnreachableError } from '../../foundation/service-errors.ts'
import type { ConsumeOptions, PushOptions, QueueDriver, QueueDriverContext } from '../driver.ts'
import { DEFAULT_RECONNECT_POLICY, ReconnectTracker, type ReconnectPolicy } from '../reconnect.ts'
import { BatchStatements, type BatchRow, type SettleBatch } from './database-batch-statements.ts'
import { BatchConsumer, type BatchStore } from './database-consumer.ts'
import { firstLine, heartbeatFailed, listenFailed, type Consuming } from './database-healing.ts'
import { DEFAULT_LEASE, LeaseKeeper, type Claim, type LeaseStore } from './database-leases.ts'
import { channelFor, listen, type PgClient, type RawConnections } from './database-notify.ts'
import { PushBatcher, type PushRow } from './database-pushes.ts'
import { LapseWatch, type ReservedRow } from './database-reclaim.ts'
import { Sleepers } from './database-sleepers.ts'
import { affected, byId, isMissingColumnError, prepared, retryTransient, rowsOf, type Dialect, type Prepared } from './database-statements.ts'

type DatabaseQueueConfig = Extract<QueueConnectionConfig, { driver: 'database' }>

/** Jobs reserved ahead of the free slots at most, unless the connection sets `prefetch`. */
const DEFAULT_PREFETCH = 500

/**
 * The database queue (Laravel's `database` driver) on knex: SQLite, PostgreSQL, MySQL/MariaDB.
 *
 * Rows live in the `jobs` table (database/migrations). Times are epoch milliseconds, not
 * Laravel's seconds, so sub-second delays and backoffs are honoured. A worker claims rows by
 * setting `reserved_at` (the claim's token) and a lease (`lease_expires_at`); it renews the
 * leases of the jobs it holds every third of a lease (see LeaseKeeper). A row is deleted when
 * its job is done or failed, and put back (`reserved_at` null, a new `available_at`) when
 * released. A row whose lease lapsed belongs to a worker that died or lost its connection: it
 * is delivered again. (Laravel's `retry_after`, a fixed reclaim time, is what the lease replaces.)
 *
 * A consumer (BatchConsumer, database-consumer.ts) claims up to `prefetch` jobs in one
 * statement and writes outcomes in batches (Settler, database-settler.ts): one commit for many
 * jobs instead of two per job, which is what bounded throughput. Attempts are counted when a
 * job starts, not when it is claimed, so jobs reserved ahead and never started do not use a
 * try. The statements, per dialect, are in BatchStatements (database-batch-statements.ts):
 * - PostgreSQL: one `WITH picked AS (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) UPDATE ...
 *   RETURNING`, and one statement per flush (`unnest` of the ids and tokens).
 * - MySQL/MariaDB: `SELECT ... FOR UPDATE SKIP LOCKED` then `UPDATE`, in one transaction.
 * - SQLite: a SELECT, then an UPDATE that checks again each row is available (SQLite
 *   serialises writers: two processes never take the same row; a lost race looks again).
 *
 * Priority is ignored, as by Laravel's database driver: within a queue, jobs run oldest first.
 */
export class DatabaseDriver implements QueueDriver {
  /** Consumers of this process sleeping on an empty queue, woken by a push or a settled job. */
  private readonly sleepers = new Sleepers()
  private batch: BatchStatements | null = null
  private readonly prepared = new Map<string, Prepared>()
  private readonly prefetch: number
  private readonly pushes = new PushBatcher<Knex.Transaction>((rows, trx) => this.insert(rows, trx))
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
    const prefetch = config.prefetch ?? DEFAULT_PREFETCH
    if (!Number.isInteger(prefetch) || prefetch < 0) {
      throw new UserError(`Queue connection "${connection}": prefetch must be a whole number of jobs, 0 or more (config/queue.ts, QUEUE_PREFETCH), got ${String(prefetch)}.`)
    }
    this.prefetch = prefetch
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

  /**
   * Inserts a row; `priority` is ignored (see the class comment). Resolves to the row id. The
   * pushes of one turn of the event loop share one INSERT (PushBatcher); on PostgreSQL the same
   * statement NOTIFYs the queues' channels (delivered when the rows commit). A consumer of this
   * process is woken at once, or after the commit inside DB.transaction.
   */
  async push(payload: string, options: PushOptions): Promise<string> {
    const now = Date.now()
    const row: PushRow = { queue: options.queue, payload, availableAt: now + Math.max(0, Math.round(options.delay * 1000)), createdAt: now }
    const connection = await this.query(async (knex) => knex)
    // Inside DB.transaction on this connection, the job commits or rolls back with it.
    const trx = currentTransaction<Knex.Transaction>(connection)
    const id = await this.pushes.push(row, trx)
    if (trx !== undefined) await afterCommit(() => this.sleepers.wake())
    else this.sleepers.wake()
    return id
  }

  /**
   * The pushes gathered by PushBatcher, in one statement (MySQL: one each, side by side). As
   * Laravel does, a statement outside a transaction that lost its connection (a pooled
   * connection the server had closed) is run once more on a new one: a push may then be
   * written twice, which at-least-once allows, but is not lost to a stale connection.
   */
  private async insert(rows: readonly PushRow[], trx: Knex.Transaction | undefined): Promise<string[]> {
    const sql = await this.batchStatements()
    const once = <T>(write: (knex: Knex) => Promise<T>): Promise<T> =>
      this.query(async (connection) => {
        try {
          return await write(trx ?? connection)
        } catch (error) {
          if (trx !== undefined || !isConnectionError(error)) throw error
          return write(connection)
        }
      })
    let ids: Array<{ id: number | string }>
    if (this.dialect === 'pgsql') {
      const channels = rows.map((row) => channelFor(this.table, row.queue))
      const [text, bindings] =
        rows.length === 1
          ? [sql.pgPush, [rows[0]!.queue, rows[0]!.payload, rows[0]!.availableAt, rows[0]!.createdAt, channels[0]!]]
          : [sql.pgPushMany, sql.pgPushManyBindings(rows, channels)]
      const statement = this.named(text)
      ids = await once(async (knex) => ((await knex.raw(statement.text, bindings).options({ name: statement.name })) as { rows: Array<{ id: number | string }> }).rows)
    } else {
      const records = rows.map((row) => ({ queue: row.queue, payload: row.payload, attempts: 0, reserved_at: null, available_at: row.availableAt, created_at: row.createdAt }))
      ids =
        this.dialect === 'sqlite'
          ? await once((knex) => knex(this.table).insert(records).returning<Array<{ id: number | string }>>('id'))
          : await Promise.all(records.map((record) => once(async (knex) => ({ id: ((await knex(this.table).insert(record)) as number[])[0]! }))))
    }
    // Ids rise in the order the rows were written (RETURNING itself promises no order).
    const sorted = this.dialect === 'mysql' ? ids : [...ids].sort(byId)
    return sorted.map((row) => String(row.id))
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
   * Runs a BatchConsumer (database-consumer.ts): jobs claimed in batches, `concurrency` slots,
   * outcomes written in batches, while a heartbeat renews the leases of every job held. An empty
   * poll sleeps until the next delayed job is due, at most `sleep` seconds (a push in this
   * process, a NOTIFY on PostgreSQL, or the abort, wakes it earlier). With `stopWhenEmpty`, it
   * resolves once a poll finds nothing, nothing is in hand, and no other worker's job is
   * waiting for its lease to lapse. A lost connection is waited out (`reconnect`); after
   * `reconnect.maxDisconnected` seconds, or on any other database error, every slot stops
   * after its job in hand and this rejects.
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
    const sql = await this.batchStatements()
    const run: Consuming = {
      options,
      stop: stop.signal,
      tracker: new ReconnectTracker(policy),
      policy,
      leases: new LeaseKeeper(this.leaseStore(sql), this.leaseMs, warn),
      warn,
      lapses: new LapseWatch(warn),
    }
    const beating = run.leases.run(
      heartbeat.signal,
      () => run.tracker.succeeded(),
      (error) => heartbeatFailed(run, error),
    )
    const consumer = new BatchConsumer(this.batchStore(sql), run, this.sleepers, this.prefetch, () => {
      stop.abort()
      this.sleepers.wake()
    })
    // PostgreSQL: a push in another process wakes this one (a worker that stops when empty has no use for it).
    const listening = this.dialect === 'pgsql' && !options.stopWhenEmpty 
        ? this.listenFor(options.queues, (error) => listenFailed(run, this.explain(error)), policy, heartbeat.signal).catch((error: unknown) => warn(`Could not LISTEN for new jobs (${firstLine(error)}): polling every sleep interval.`))
        : null
    let errors: unknown[]
    try {
      errors = await consumer.consume()
    } finally {
      options.signal.removeEventListener('abort', onAbort)
      heartbeat.abort()
      await beating
      await listening
    }
    // Parts that gave up on the same outage say it once.
    if (errors.length > 0 && errors.every((error) => error instanceof ServiceUnreachableError)) throw errors[0]
    if (errors.length === 1) throw errors[0]
    if (errors.length > 1) throw new AggregateError(errors, `The database queue "${this.connection}" stopped on ${errors.length} errors`)
  }

  /** LISTENs for pushes to these queues on a connection of its own, until `stop` (see database-notify.ts). */
  private async listenFor(queues: readonly string[], failed: (error: unknown) => void, policy: ReconnectPolicy, stop: AbortSignal): Promise<void> {
    const knex = await this.db.connection(this.config.database)
    // knex's pg dialect opens a client outside its pool with the connection's settings.
    const client = knex.client as { acquireRawConnection(): Promise<PgClient>; destroyRawConnection(client: PgClient): Promise<void> }
    const connections: RawConnections = {
      open: () => client.acquireRawConnection(),
      close: (raw) => client.destroyRawConnection(raw),
    }
    const channels = queues.map((queue) => channelFor(this.table, queue))
    return listen(connections, channels, () => this.sleepers.wake(), failed, policy, stop)
  }

  /** Nothing to release: the DatabaseManager owns the connections and closes them at shutdown. */
  async close(): Promise<void> {
    this.sleepers.wake()
  }

  private batchStore(sql: BatchStatements): BatchStore {
    return {
      claim: (queue, limit) => retryTransient(() => this.claimBatch(sql, queue, limit)),
      flush: (batch) => retryTransient(() => this.flushBatch(sql, batch)),
      giveBack: async (claims) => {
        const [text, bindings] = sql.giveBack(claims)
        await retryTransient(() => this.query((knex) => knex.raw(text, bindings)))
      },
      untilNextDue: (queues, capMs) => this.untilNextDue(queues, capMs),
      reserved: (queues) =>
        this.query((knex) =>
          knex(this.table).whereIn('queue', [...queues]).whereNotNull('reserved_at').select<ReservedRow[]>('id', 'lease_expires_at').limit(1_000),
        ),
    }
  }

  /** Claims up to `limit` jobs of a queue, oldest first (see BatchStatements for each dialect). */
  private async claimBatch(sql: BatchStatements, queue: string, limit: number): Promise<Claim[]> {
    const now = Date.now()
    const lease = now + this.leaseMs
    const rows = await this.query(async (knex): Promise<BatchRow[]> => {
      if (this.dialect === 'pgsql') {
        const statement = this.named(sql.pgClaim)
        const result = await knex.raw(statement.text, [queue, now, now, limit, now, lease]).options({ name: statement.name })
        return (result as { rows: BatchRow[] }).rows.sort(byId)
      }
      if (this.dialect === 'mysql') return this.mysqlClaim(knex, sql, [queue, now, now, limit], now, lease)
      // SQLite: another process may take the candidates between the two statements. Only a
      // look that finds none means the queue is empty; a lost race looks again.
      for (;;) {
        const found = (await knex.raw(sql.candidates, [queue, now, now, limit])) as BatchRow[]
        if (found.length === 0) return []
        const taken = (await knex.raw(...sql.reserve(found.map((row) => row.id), now, lease))) as Array<{ id: number | string }>
        const ids = new Set(taken.map((row) => String(row.id)))
        if (ids.size > 0) return found.filter((row) => ids.has(String(row.id)))
      }
    })
    return rows.map((row) => ({
      // The claim does not count the attempt (the Settler does once the job starts): this is the next one.
      job: { id: String(row.id), queue: row.queue, payload: row.payload, attempts: Number(row.attempts) + 1 },
      rowId: row.id,
      reservedAt: now,
      reclaimed: row.reclaimed === true || Number(row.reclaimed) === 1,
    }))
  }

  /**
   * MySQL/MariaDB: the candidates locked (`FOR UPDATE SKIP LOCKED`) and reserved in one
   * transaction, on a pooled connection held by hand. Not knex's `transaction()`: when the
   * server kills the connection mid-transaction, its ROLLBACK on the closed connection rejects
   * where no one can catch it. Here a failed transaction is rolled back if the connection still
   * lives, and the error is the claim's, which `healing` waits out.
   */
  private async mysqlClaim(knex: Knex, sql: BatchStatements, candidates: readonly Knex.Value[], now: number, lease: number): Promise<BatchRow[]> {
    const pool = knex.client as { acquireConnection(): Promise<object>; releaseConnection(connection: object): Promise<unknown> }
    const connection = await pool.acquireConnection()
    let open = false
    try {
      await knex.raw('begin').connection(connection)
      open = true
      const [found] = (await knex.raw(sql.candidates, candidates).connection(connection)) as [BatchRow[]]
      if (found.length > 0) await knex.raw(...sql.reserve(found.map((row) => row.id), now, lease)).connection(connection)
      await knex.raw('commit').connection(connection)
      open = false
      return found
    } catch (error) {
      if (open) await knex.raw('rollback').connection(connection).then(() => {}, () => {})
      throw error
    } finally {
      await pool.releaseConnection(connection)
    }
  }

  /** Writes a batch: one statement on PostgreSQL, one transaction on SQLite, each statement on its own on MySQL. */
  private async flushBatch(sql: BatchStatements, batch: SettleBatch): Promise<void> {
    await this.query(async (knex) => {
      if (this.dialect === 'pgsql') {
        const statement = this.named(sql.pgFlush)
        await knex.raw(statement.text, sql.pgFlushBindings(batch)).options({ name: statement.name })
        return
      }
      const statements = sql.flush(batch)
      if (this.dialect === 'sqlite' && statements.length > 1) {
        await knex.transaction(async (trx) => {
          for (const [text, bindings] of statements) await trx.raw(text, bindings)
        })
        return
      }
      // Each write is idempotent (it matches the claim's token): no transaction needed.
      for (const [text, bindings] of statements) await knex.raw(text, bindings)
    })
  }

  /**
   * Milliseconds until a job of these queues could be claimed: the earliest `available_at` of
   * a waiting row, or the moment a reserved row's lease runs out; at most `capMs`.
   */
  private async untilNextDue(queues: readonly string[], capMs: number): Promise<number> {
    const [row] = await this.query((knex) =>
      knex(this.table)
        .whereIn('queue', [...queues])
        .select<Array<{ due: number | string | null }>>(knex.raw('min(case when reserved_at is null then available_at else lease_expires_at end) as due')),
    )
    if (row?.due === null || row?.due === undefined) return capMs
    // A due row we did not get is being claimed by another worker: look again shortly.
    const wait = Math.max(Number(row.due) - Date.now() + 1, 10)
    return Math.min(wait, capMs)
  }

  /** The heartbeat's statements: one UPDATE for every job held, matching each claim's token. */
  private leaseStore(sql: BatchStatements): LeaseStore {
    return {
      renew: (claims, expiresAt) => {
        const [text, bindings] = sql.renew(claims, expiresAt)
        return retryTransient(() => this.query(async (knex) => affected(await knex.raw(text, bindings), this.dialect)))
      },
      owned: async (claims) => {
        const [text, bindings] = sql.owned(claims)
        const rows = rowsOf(await this.query((knex) => knex.raw(text, bindings)), this.dialect)
        const ids = new Set(rows.map((row) => String(row.id)))
        return new Set(claims.filter((claim) => ids.has(String(claim.rowId))))
      },
    }
  }

  private named(text: string): Prepared {
    let statement = this.prepared.get(text)
    if (statement === undefined) {
      statement = prepared(text)
      this.prepared.set(text, statement)
    }
    return statement
  }

  private async batchStatements(): Promise<BatchStatements> {
    if (this.batch === null) {
      const knex = await this.db.connection(this.config.database)
      this.batch = new BatchStatements(knex.raw('??', [this.table]).toQuery(), this.dialect)
    }
    return this.batch
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

export function createDriver(name: string, config: QueueConnectionConfig, context: QueueDriverContext): QueueDriver {
  if (config.driver !== 'database') throw new Error(`Queue connection "${name}" is not a database connection.`)
  return new DatabaseDriver(name, config, context.database())
}
