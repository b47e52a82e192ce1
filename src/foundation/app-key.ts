import { randomBytes } from 'node:crypto'
import { UserError } from './errors.ts'
import type { Logger } from './logger.ts'

/** Laravel's spelling of a key given as bytes: `APP_KEY=base64:...`. */
const BASE64_PREFIX = 'base64:'
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * A new APP_KEY, as `artisan key:generate` writes it: 32 random bytes, `base64:` + base64,
 * the form Laravel uses, so one `.env` serves both.
 */
export function generateAppKey(): string {
  return `${BASE64_PREFIX}${randomBytes(32).toString('base64')}`
}

/**
 * The bytes of an APP_KEY: `base64:...` is decoded, any other text is taken as it is (keys
 * written by hand, `openssl rand -hex 32`). A `base64:` key that is not base64 is an error
 * rather than a key silently weaker than it looks.
 */
export function parseAppKey(value: string): Buffer {
  if (!value.startsWith(BASE64_PREFIX)) return Buffer.from(value, 'utf8')
  const encoded = value.slice(BASE64_PREFIX.length)
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
    throw new UserError('APP_KEY starts with "base64:" but the rest is not base64: run `artisan key:generate --force` for a new one.')
  }
  return Buffer.from(encoded, 'base64')
}

// One per process, so that every kernel of the process agrees and a reload does not log again.
let ephemeral: Buffer | null = null

/**
 * The key that signs what the web server hands out (CSRF tokens). In `production` APP_KEY
 * must be set; elsewhere a missing key is replaced by a random one for this process, with a
 * single warning, so that a fresh clone serves with nothing set by hand. Its tokens die with
 * the process, which is harmless for a development server and wrong for several servers
 * behind one address: those need APP_KEY.
 */
export function signingKey(app: { env: string; key: string | null }, logger: Pick<Logger, 'warn'>): Buffer {
  if (app.key !== null) return parseAppKey(app.key)
  if (app.env === 'production') throw missingKeyError()
  if (ephemeral === null) {
    ephemeral = randomBytes(32)
    logger.warn('APP_KEY is not set: CSRF tokens are signed with a key made for this process and stop working when it restarts; run `artisan key:generate` to set one.')
  }
  return ephemeral
}

/** What `serve` (and a web kernel) in production says without APP_KEY. */
export function missingKeyError(): UserError {
  return new UserError('APP_KEY is not set, and APP_ENV is production: run `artisan key:generate` (or set APP_KEY in the environment) before serving.')
}
