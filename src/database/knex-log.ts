import type { Knex } from 'knex'

/**
 * knex's logger for every connection. knex warns `Acquire connection error: <stack>` on stdout
 * before rejecting the query with that same error; the caller reports the error (the console
 * as one line naming the database), so the warning is dropped. Every other warning is printed
 * as knex would.
 */
export const knexLog: Knex.Logger = {
  warn(message: unknown) {
    if (typeof message === 'string' && message.startsWith('Acquire connection error')) return
    console.warn(message)
  },
}
