import type { Knex } from 'knex'

/**
 * knex's logger for every connection. knex warns `Acquire connection error: <stack>` on stdout
 * before rejecting the query with that same error, and `Connection Error: …` when a pooled
 * connection drops; the caller reports the error (the console
 * as one line naming the database), so the warning is dropped. Every other warning is printed
 * as knex would.
 */
export const knexLog: Knex.Logger = {
  warn(message: unknown) {
    // `Connection Error: …` is a pooled connection dropping (pg_terminate_backend, a restart):
    // the worker says so once, in its own warning line.
    if (typeof message === 'string' && /^(Acquire connection error|Connection Error)/.test(message)) return
    console.warn(message)
  },
}
