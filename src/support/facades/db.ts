import type { Knex } from 'knex'
import type { DatabaseManager } from '../../database/database-manager.ts'
import { afterCommit } from '../../database/transactions.ts'
import { facadeRoot } from '../application-root.ts'

function manager(): DatabaseManager {
  return facadeRoot().make('db')
}

/**
 * The `DB` facade: knex connections, and transactions that hold after-commit work.
 *
 * ```ts
 * await DB.transaction(async (trx) => {
 *   const [id] = await trx('orders').insert({ total: 30 })
 *   await OrderPlaced.dispatch(id)      // ShouldDispatchAfterCommit: sent once this commits
 * })
 * ```
 */
export const DB = {
  /** A knex instance (the default connection when no name is given). */
  connection(name?: string): Promise<Knex> {
    return manager().connection(name)
  },
  /** Runs `fn` in a transaction; after-commit work waits for the commit, rollback drops it. */
  transaction<T>(fn: (trx: Knex.Transaction) => Promise<T> | T, connection?: string): Promise<T> {
    return manager().transaction(fn, connection)
  },
  /** Runs `callback` after the surrounding transaction commits, or now outside one. */
  afterCommit(callback: () => unknown): Promise<void> {
    return afterCommit(callback)
  },
}
