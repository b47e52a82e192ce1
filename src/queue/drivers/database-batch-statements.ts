import type { Knex } from 'knex'
import type { Claim } from './database-leases.ts'
import type { PushRow } from './database-pushes.ts'
import type { Dialect } from './database-statements.ts'

/**
 * The statements of the batched database queue consumer, per dialect: claim up to n jobs at
 * once, and settle many (deletes, releases, start marks) in one statement or transaction.
 *
 * Every write that touches a reserved row matches the claim's token as well as its id
 * (`(id, reserved_at)`), so a worker whose lease lapsed never writes over the next worker's
 * reservation. PostgreSQL receives the pairs as two arrays (`unnest`), so the statement text
 * is the same whatever the batch size and is prepared once; MySQL and SQLite get a list, with
 * a plain `id in (...)` first so the primary key drives the look-up.
 */

/** A statement and its bindings. */
export type Sql = readonly [sql: string, bindings: readonly Knex.Value[]]

/** A job whose run is decided, waiting to be written: deleted, or put back with a delay. */
export interface Release {
  readonly claim: Claim
  readonly payload: string
  readonly availableAt: number
}

/** What one flush writes. */
export interface SettleBatch {
  /** Done or failed: delete. */
  readonly deleted: readonly Claim[]
  readonly released: readonly Release[]
  /** Started and still running: count the attempt (`attempts + 1`). */
  readonly started: readonly Claim[]
}

/** A row as a claim returns it; `reclaimed` when its previous worker's lease had lapsed. */
export interface BatchRow {
  readonly id: number | string
  readonly queue: string
  readonly payload: string
  readonly attempts: number | string
  readonly reclaimed: boolean | number | string | null
}

const AVAILABLE = `queue = ? and ((reserved_at is null and available_at <= ?) or lease_expires_at <= ?)`

export class BatchStatements {
  constructor(
    private readonly table: string,
    readonly dialect: Dialect,
  ) {}

  /**
   * PostgreSQL: claims up to `limit` rows in one statement, returning whether each was
   * reserved before (a lapsed lease). Bindings: queue, now, now, limit, now, leaseExpiresAt.
   * The claim commits asynchronously (see database-statements.ts): a lost claim only leaves
   * the job available.
   */
  get pgClaim(): string {
    const t = this.table
    return (
      `with picked as (select id, reserved_at from ${t} where ${AVAILABLE} order by id limit ? for update skip locked) ` +
      `update ${t} set reserved_at = ?, lease_expires_at = ? from picked where ${t}.id = picked.id ` +
      `returning ${t}.id, ${t}.queue, ${t}.payload, ${t}.attempts, picked.reserved_at is not null as reclaimed, set_config('synchronous_commit', 'off', true)`
    )
  }

  /**
   * PostgreSQL: a push, the insert and its NOTIFY in one round trip (inside a transaction the
   * notification goes out when it commits). Bindings: queue, payload, availableAt, createdAt, channel.
   */
  get pgPush(): string {
    return (
      `with inserted as (insert into ${this.table} (queue, payload, attempts, reserved_at, available_at, created_at) values (?, ?, 0, null, ?, ?) returning id) ` +
      `select id, pg_notify(?, '') from inserted`
    )
  }

  /**
   * PostgreSQL: many pushes in one statement, each queue's channel notified once. Bindings:
   * arrays of queues, payloads, availableAts, createdAts, and the distinct channels.
   */
  get pgPushMany(): string {
    return (
      `with inserted as (insert into ${this.table} (queue, payload, attempts, reserved_at, available_at, created_at) ` +
      `select r.queue, r.payload, 0, null, r.available_at, r.created_at from unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[]) with ordinality as r(queue, payload, available_at, created_at, n) order by r.n returning id), ` +
      `notified as (select pg_notify(c, '') from unnest(?::text[]) as c) ` +
      `select id, (select count(*) from notified) as notified from inserted`
    )
  }

  pgPushManyBindings(rows: readonly PushRow[], channels: readonly string[]): Knex.Value[] {
    return [rows.map((row) => row.queue), rows.map((row) => row.payload), rows.map((row) => row.availableAt), rows.map((row) => row.createdAt), [...new Set(channels)]]
  }

  /** MySQL and SQLite: the candidates (queue, now, now, limit); MySQL locks them (in a transaction). */
  get candidates(): string {
    const lock = this.dialect === 'mysql' ? ' for update skip locked' : ''
    return `select id, queue, payload, attempts, reserved_at is not null as reclaimed from ${this.table} where ${AVAILABLE} order by id limit ?${lock}`
  }

  /**
   * Reserves candidates: MySQL holds their locks; SQLite checks again that each is still
   * available and returns the ids it took (another process may have claimed one in between).
   */
  reserve(ids: readonly (number | string)[], now: number, lease: number): Sql {
    const list = ids.map(() => '?').join(', ')
    if (this.dialect === 'mysql') return [`update ${this.table} set reserved_at = ?, lease_expires_at = ? where id in (${list})`, [now, lease, ...ids]]
    return [
      `update ${this.table} set reserved_at = ?, lease_expires_at = ? where id in (${list}) and ((reserved_at is null and available_at <= ?) or lease_expires_at <= ?) returning id`,
      [now, lease, ...ids, now, now],
    ]
  }

  /**
   * PostgreSQL: one statement for a whole batch. Bindings: deleted ids, tokens; started ids,
   * tokens; released ids, tokens, payloads, availableAts, attempts.
   */
  get pgFlush(): string {
    const t = this.table
    return (
      `with deleted as (delete from ${t} where (id, reserved_at) in (select * from unnest(?::bigint[], ?::bigint[]))), ` +
      `started as (update ${t} set attempts = attempts + 1 where (id, reserved_at) in (select * from unnest(?::bigint[], ?::bigint[]))), ` +
      `released as (update ${t} set payload = r.payload, reserved_at = null, lease_expires_at = null, available_at = r.available_at, attempts = r.attempts ` +
      `from unnest(?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::int[]) as r(id, reserved_at, payload, available_at, attempts) ` +
      `where ${t}.id = r.id and ${t}.reserved_at = r.reserved_at) ` +
      `select set_config('synchronous_commit', 'off', true)`
    )
  }

  pgFlushBindings(batch: SettleBatch): Knex.Value[] {
    const { released } = batch
    return [
      ...pairs(batch.deleted),
      ...pairs(batch.started),
      released.map((r) => String(r.claim.rowId)),
      released.map((r) => r.claim.reservedAt),
      released.map((r) => r.payload),
      released.map((r) => r.availableAt),
      released.map((r) => r.claim.job.attempts),
    ]
  }

  /** MySQL and SQLite: the statements of a batch, to run in one transaction. */
  flush(batch: SettleBatch): Sql[] {
    const out: Sql[] = []
    if (batch.deleted.length > 0) out.push(this.where(`delete from ${this.table}`, batch.deleted))
    if (batch.started.length > 0) out.push(this.where(`update ${this.table} set attempts = attempts + 1`, batch.started))
    for (const r of batch.released) {
      out.push([
        `update ${this.table} set payload = ?, reserved_at = null, lease_expires_at = null, available_at = ?, attempts = ? where id = ? and reserved_at = ?`,
        [r.payload, r.availableAt, r.claim.job.attempts, r.claim.rowId, r.claim.reservedAt],
      ])
    }
    return out
  }

  /** Puts claims that never started back, as they were (their attempt was never counted). */
  giveBack(claims: readonly Claim[]): Sql {
    return this.where(`update ${this.table} set reserved_at = null, lease_expires_at = null`, claims)
  }

  /** Renews the leases of claims still ours (expiresAt first). */
  renew(claims: readonly Claim[], expiresAt: number): Sql {
    const [sql, bindings] = this.where(`update ${this.table} set lease_expires_at = ?`, claims)
    return [sql, [expiresAt, ...bindings]]
  }

  /** The ids of these claims still reserved with their token. */
  owned(claims: readonly Claim[]): Sql {
    return this.where(`select id from ${this.table}`, claims)
  }

  /** `head where (id, reserved_at) matches one of the claims`. */
  private where(head: string, claims: readonly Claim[]): Sql {
    if (this.dialect === 'pgsql') return [`${head} where (id, reserved_at) in (select * from unnest(?::bigint[], ?::bigint[]))`, pairs(claims)]
    const ids = claims.map((claim) => claim.rowId)
    const tuples = claims.flatMap((claim) => [claim.rowId, claim.reservedAt])
    const list = claims.map(() => '?').join(', ')
    const rows = claims.map(() => '(?, ?)').join(', ')
    const set = this.dialect === 'sqlite' ? `(values ${rows})` : `(${rows})`
    return [`${head} where id in (${list}) and (id, reserved_at) in ${set}`, [...ids, ...tuples]]
  }
}

/** PostgreSQL arrays of ids and tokens (ids as text: a bigint id may not fit a JS number). */
function pairs(claims: readonly Claim[]): [Knex.Value, Knex.Value] {
  return [claims.map((claim) => String(claim.rowId)), claims.map((claim) => claim.reservedAt)]
}
