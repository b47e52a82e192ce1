import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type { DatabaseManager } from '../../database/database-manager.ts'
import { explainMissingTable } from '../../database/missing-table.ts'
import { currentTransaction } from '../../database/transactions.ts'
import type { LockStore } from './lock-store.ts'

/** The table of database locks (database/migrations, Laravel's `cache_locks`). */
export const LOCKS_TABLE = 'cache_locks'

/** The longest key the table's primary key takes; longer ones are shortened with a hash. */
const MAX_KEY = 255

/**
 * Locks in the `cache_locks` table (key primary, owner, expiration in epoch milliseconds, null
 * for none), for the database and sync queue connections. Taking a lock is one statement that
 * inserts the row, or takes it over when it has expired, so two processes never both win:
 * - PostgreSQL, SQLite: `INSERT … ON CONFLICT (key) DO UPDATE … WHERE expiration <= now`;
 * - MySQL/MariaDB: `INSERT IGNORE`, then `UPDATE … WHERE expiration <= now` when the row was
 *   there (each statement atomic; `ON DUPLICATE KEY UPDATE` cannot tell a take-over from a
 *   row left alone under mysql2's FOUND_ROWS).
 * Inside `DB.transaction(...)` on the same connection the lock is written in the transaction,
 * so it commits or rolls back with the job the database queue writes there (and SQLite, whose
 * one connection the transaction holds, does not wait forever).
 */
export class DatabaseLockStore implements LockStore {
  constructor(
    private readonly db: DatabaseManager,
    /** The database connection; the default one when undefined. */
    private readonly connection: string | undefined,
  ) {}

  async acquire(key: string, owner: string, ttlSeconds: number): Promise<boolean> {
    const now = Date.now()
    const expiration = ttlSeconds > 0 ? now + Math.max(1, Math.round(ttlSeconds * 1000)) : null
    const row = { key: stored(key), owner, expiration }
    return this.run(async (db, dialect) => {
      if (dialect === 'mysql') {
        const [inserted] = (await db.raw('insert ignore into ?? (??, ??, ??) values (?, ?, ?)', [LOCKS_TABLE, 'key', 'owner', 'expiration', row.key, owner, expiration])) as [{ affectedRows: number }]
        if (inserted.affectedRows > 0) return true
        return (await this.takeOverExpired(db, row, now)) > 0
      }
      const result: unknown = await db.raw(
        'insert into ?? (??, ??, ??) values (?, ?, ?) on conflict (??) do update set ?? = excluded.??, ?? = excluded.?? where ??.?? is not null and ??.?? <= ?',
        [LOCKS_TABLE, 'key', 'owner', 'expiration', row.key, owner, expiration, 'key', 'owner', 'owner', 'expiration', 'expiration', LOCKS_TABLE, 'expiration', LOCKS_TABLE, 'expiration', now],
      )
      return changed(result, dialect) > 0
    })
  }

  async release(key: string, owner: string): Promise<boolean> {
    return this.run(async (db) => (await db(LOCKS_TABLE).where({ key: stored(key), owner }).delete()) > 0)
  }

  async forceRelease(key: string): Promise<void> {
    await this.run((db) => db(LOCKS_TABLE).where({ key: stored(key) }).delete())
  }

  async owner(key: string): Promise<string | null> {
    return this.run(async (db) => {
      const row = (await db(LOCKS_TABLE).where({ key: stored(key) }).first('owner', 'expiration')) as { owner: string; expiration: number | string | null } | undefined
      if (row === undefined || (row.expiration !== null && Number(row.expiration) <= Date.now())) return null
      return row.owner
    })
  }

  private takeOverExpired(db: Knex | Knex.Transaction, row: { key: string; owner: string; expiration: number | null }, now: number): Promise<number> {
    return db(LOCKS_TABLE)
      .where({ key: row.key })
      .whereNotNull('expiration')
      .where('expiration', '<=', now)
      .update({ owner: row.owner, expiration: row.expiration })
  }

  private async run<T>(fn: (db: Knex | Knex.Transaction, dialect: 'sqlite' | 'pgsql' | 'mysql') => Promise<T>): Promise<T> {
    const knex = await this.db.connection(this.connection)
    try {
      return await fn(currentTransaction<Knex.Transaction>(knex) ?? knex, this.db.driver(this.connection))
    } catch (error) {
      throw explainMissingTable(error, LOCKS_TABLE, this.connection ?? this.db.defaultConnection)
    }
  }
}

/** A key as the table stores it: as it is, or cut and suffixed with its hash when too long. */
function stored(key: string): string {
  if (key.length <= MAX_KEY) return key
  return `${key.slice(0, MAX_KEY - 65)}#${createHash('sha256').update(key).digest('hex')}`
}

/** Rows a raw statement changed (pg: rowCount; better-sqlite3: changes). */
function changed(result: unknown, dialect: 'sqlite' | 'pgsql'): number {
  if (dialect === 'pgsql') return (result as { rowCount: number | null }).rowCount ?? 0
  return (result as { changes?: number }).changes ?? 0
}
