import { UserError } from './errors.ts'
import { errorMessage } from './error-message.ts'

/**
 * A service Herald talks to (Redis, a database) could not be reached. The message names the
 * service and its address, never a password: `Redis at redis://127.0.0.1:6379 is unreachable
 * (connect ECONNREFUSED 127.0.0.1:6379)`. It is a UserError: the console prints the line and
 * exits 1, since the fix (start the service, correct the address) is the user's.
 */
export class ServiceUnreachableError extends UserError {
  override readonly name: string = 'ServiceUnreachableError'

  constructor(
    /** What it is, as the user knows it: `Redis`, `Database "pgsql"`. */
    readonly service: string,
    /** Where, without credentials: `redis://127.0.0.1:6379`, `127.0.0.1:5432`. */
    readonly address: string,
    cause: unknown,
  ) {
    super(`${service} at ${address} is unreachable (${firstLine(cause)})`, { cause })
  }
}

function firstLine(error: unknown): string {
  const text = errorMessage(error)
  return text.split('\n', 1)[0]!.trim() || 'no reason given'
}

/** Error codes and messages of a connection that was refused, dropped or timed out. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
  'PROTOCOL_CONNECTION_LOST',
  // PostgreSQL: admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now.
  '57P01',
  '57P02',
  '57P03',
  // SQLite: the file went away under us.
  'SQLITE_CANTOPEN',
])
const CONNECTION_MESSAGES =
  /Connection terminated|connection is closed|Connection is closed|Client has encountered a connection error|Knex: Timeout acquiring a connection|Reached the max retries per request limit|ECONNREFUSED|ECONNRESET|socket hang up|read ECONNRESET|Stream isn't writeable/i

/**
 * True when `error` (or its cause) says the connection to a service was lost or could not be
 * made, as opposed to a bad statement or a bug: the cases a worker waits out and reconnects.
 */
export function isConnectionError(error: unknown, depth = 0): boolean {
  if (error instanceof ServiceUnreachableError) return true
  if (depth > 4 || error === null || typeof error !== 'object') return false
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown }
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true
  if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return true
  if (Array.isArray(errors) && errors.some((inner) => isConnectionError(inner, depth + 1))) return true
  return cause !== undefined && isConnectionError(cause, depth + 1)
}

/** `host:port` of a URL or host and port, with any user and password left out. */
export function safeAddress(url: string | undefined, host?: string, port?: number | string): string {
  if (url) {
    try {
      const parsed = new URL(url)
      return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}`
    } catch {
      return '(an unparsable URL)'
    }
  }
  return `${host ?? 'localhost'}${port !== undefined ? `:${port}` : ''}`
}
