import type { Application } from '../foundation/application.ts'
import { isConnectionError, ServiceUnreachableError } from '../foundation/service-errors.ts'

/** Where a database connection points (DatabaseManager.address: never a password). */
function databaseAddress(app: Application, name: string): string {
  if (app.config.get('database').connections[name] === undefined) return '(not configured)'
  return app.make('db').address(name)
}

/** better-sqlite3's refusals to open the file (a missing folder, no permission), which carry no code. */
function isUnopenableFile(error: unknown): boolean {
  const message = error instanceof Error ? error.message : ''
  return /^Cannot open database because|unable to open database file/.test(message)
}

/**
 * Runs a command's `work` on database connection `name` (the default one when undefined or
 * null): a connection that cannot be made becomes one line naming the connection and its
 * address, `Database "pgsql" at 127.0.0.1:5432 is unreachable (connect ECONNREFUSED ...)`,
 * which the console prints with exit 1, instead of the driver's error and stack.
 *
 * ```ts
 * const runs = await onDatabase(app, options.database, () => migrator.latest())
 * ```
 */
export async function onDatabase<T>(app: Application, name: string | null | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof ServiceUnreachableError || !(isConnectionError(error) || isUnopenableFile(error))) throw error
    const connection = name ?? app.config.get('database').default
    throw new ServiceUnreachableError(`Database "${connection}"`, databaseAddress(app, connection), error)
  }
}
