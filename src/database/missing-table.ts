import { UserError } from '../foundation/errors.ts'

/**
 * True when a query failed because its table does not exist, in any of the three dialects:
 * SQLite says "no such table", PostgreSQL gives SQLSTATE 42P01, MySQL/MariaDB errno 1146.
 */
export function isMissingTableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, errno, message } = error as { code?: unknown; errno?: unknown; message?: unknown }
  return code === '42P01' || errno === 1146 || code === 'ER_NO_SUCH_TABLE' || (typeof message === 'string' && message.includes('no such table'))
}

/**
 * Rethrows a missing-table error as one that names the fix, since the usual cause is a
 * database that was never migrated; any other error is returned as it is.
 */
export function explainMissingTable(error: unknown, table: string, connection: string): unknown {
  if (!isMissingTableError(error)) return error
  return new UserError(`The table "${table}" does not exist on database connection "${connection}": run "artisan migrate" (with --database=${connection} if it is not the default).`)
}
