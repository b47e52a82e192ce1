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

export function prepared(text: string): Prepared {
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

/** Rows a raw statement changed, per driver (pg: rowCount; mysql2: affectedRows; better-sqlite3: changes). */
export function affected(result: unknown, dialect: Dialect): number {
  if (dialect === 'pgsql') return (result as { rowCount: number | null }).rowCount ?? 0
  if (dialect === 'mysql') return (result as [{ affectedRows: number }])[0].affectedRows
  return (result as { changes?: number }).changes ?? 0
}

/** The rows of a raw SELECT, per driver. */
export function rowsOf(result: unknown, dialect: Dialect): Array<{ id: number | string }> {
  if (dialect === 'pgsql') return (result as { rows: Array<{ id: number | string }> }).rows
  if (dialect === 'mysql') return (result as [Array<{ id: number | string }>])[0]
  return result as Array<{ id: number | string }>
}

/** Rows in id order (ids may be bigint strings). */
export function byId(a: { id: number | string }, b: { id: number | string }): number {
  const x = BigInt(a.id)
  const y = BigInt(b.id)
  return x < y ? -1 : x > y ? 1 : 0
}
