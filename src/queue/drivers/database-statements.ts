import { createHash } from 'node:crypto'
import type { DatabaseConnectionConfig } from '../../foundation/config.ts'

export type Dialect = DatabaseConnectionConfig['driver']

/**
 * A statement run often enough to be prepared once per connection on PostgreSQL (a named
 * statement: parsed and planned once, not for every job). The name is derived from the text,
 * so two queue tables on one pool never share a name.
 */
export interface Prepared {
  readonly text: string
  readonly name: string
}

/** The hand-written statements of the database queue (bindings in the order noted). */
export interface Statements {
  /** Claims the oldest available job of a queue: now, leaseExpiresAt, queue, now, now. */
  readonly claim: Prepared
  /**
   * PostgreSQL: the previous job's delete (id, reservedAt) or release (payload, availableAt,
   * id, reservedAt) as a WITH clause, then `claim` skipping that row: ..., now,
   * leaseExpiresAt, queue, now, now, id.
   */
  readonly claimAfterDelete: Prepared
  readonly claimAfterRelease: Prepared
  /** MySQL: finds and locks that row (queue, now, now), then reserves it (now, leaseExpiresAt, id). */
  readonly select: string
  readonly reserve: string
  /** Settles a job: id, reservedAt; a release also sets payload, availableAt first. */
  readonly delete: string
  readonly release: string
}

/**
 * A row can be claimed when it waits and is due, or when its lease has lapsed: the worker that
 * reserved it stopped renewing it (it died, or lost its connection for a whole lease).
 *
 * On PostgreSQL the claim (and the outcome written with it) commits asynchronously
 * (`synchronous_commit` off for that statement's transaction alone, through `set_config`, so
 * the session and every other statement keep the server's setting): the worker does not wait
 * for the WAL flush, which halves what a job costs the server. A server crash can lose the last
 * such commits, which only takes the rows back to an earlier state that still holds the job:
 * a lost claim leaves it available, a lost delete or release leaves it reserved until its
 * lease lapses. Either way it is delivered again, as at-least-once allows. Pushes are
 * untouched: a pushed job is as durable as the server makes it.
 */
export function buildStatements(table: string, dialect: Dialect): Statements {
  const available = `queue = ? and ((reserved_at is null and available_at <= ?) or lease_expires_at <= ?)`
  const lock = dialect === 'pgsql' ? ' for update skip locked' : ''
  const returning = `returning id, queue, payload, attempts${dialect === 'pgsql' ? `, set_config('synchronous_commit', 'off', true)` : ''}`
  const reserve = `reserved_at = ?, lease_expires_at = ?, attempts = attempts + 1`
  const claim = (extra: string) =>
    `update ${table} set ${reserve} where id = (select id from ${table} where ${available}${extra} order by id limit 1${lock}) ${returning}`
  const remove = `delete from ${table} where id = ? and reserved_at = ?`
  const release = `update ${table} set payload = ?, reserved_at = null, lease_expires_at = null, available_at = ? where id = ? and reserved_at = ?`
  return {
    claim: prepared(claim('')),
    claimAfterDelete: prepared(`with settled as (${remove}) ${claim(' and id <> ?')}`),
    claimAfterRelease: prepared(`with settled as (${release}) ${claim(' and id <> ?')}`),
    select: `select id, queue, payload, attempts from ${table} where ${available} order by id limit 1 for update skip locked`,
    reserve: `update ${table} set ${reserve} where id = ?`,
    delete: remove,
    release,
  }
}

function prepared(text: string): Prepared {
  return { text, name: `herald_queue_${createHash('sha1').update(text).digest('hex').slice(0, 16)}` }
}

/** MySQL deadlock (1213) or lock wait timeout (1205), PostgreSQL serialization failure or deadlock, SQLite busy. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  return errno === 1213 || errno === 1205 || code === '40001' || code === '40P01' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT'
}

/** True when a statement failed on a column that does not exist (a table from before a migration). */
export function isMissingColumnError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, errno, message } = error as { code?: unknown; errno?: unknown; message?: unknown }
  return code === '42703' || errno === 1054 || (typeof message === 'string' && message.includes('no such column'))
}

/** Attempts at a statement that lost a lock race (MySQL deadlock, SQLite busy) before giving up. */
const TRANSIENT_RETRIES = 5

/** Runs `fn` again when it lost a lock race that the database resolved by failing one side. */
export async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      if (attempt >= TRANSIENT_RETRIES || !isTransient(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt))
    }
  }
}
