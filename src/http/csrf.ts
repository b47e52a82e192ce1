import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'
import { parseCookies } from '../broadcasting/auth-request.ts'
import { HttpError } from './http-error.ts'

/** The cookie that holds the token (Laravel's name). */
export const CSRF_COOKIE = 'XSRF-TOKEN'
/** `<32 hex: random>.<64 hex: HMAC-SHA256(APP_KEY, random)>`. */
const TOKEN = /^([0-9a-f]{32})\.([0-9a-f]{64})$/
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export interface CsrfOptions {
  /** The bytes of APP_KEY (see `parseAppKey`): a token is valid only if this key signed it. */
  key: Buffer
  /** Send the cookie over HTTPS only (config `http.cookies.secure`). Default false. */
  secure?: boolean
  /** Default `lax`. */
  sameSite?: 'lax' | 'strict' | 'none'
}

function sign(key: Buffer, random: string): string {
  return createHmac('sha256', key).update(random).digest('hex')
}

/** A new token signed with `key`. */
export function createCsrfToken(key: Buffer): string {
  const random = randomBytes(16).toString('hex')
  return `${random}.${sign(key, random)}`
}

/**
 * Whether `token` was made by {@link createCsrfToken} with `key`. A value of the right shape
 * that this server did not sign (say 64 made-up hex digits, sent as cookie and header alike)
 * is not a token. Compared in constant time.
 */
export function isCsrfToken(token: unknown, key: Buffer): token is string {
  if (typeof token !== 'string') return false
  const match = TOKEN.exec(token)
  if (match === null) return false
  return timingSafeEqual(Buffer.from(sign(key, match[1]!), 'hex'), Buffer.from(match[2]!, 'hex'))
}

function submittedToken(request: Request): unknown {
  const body = request.body as { _token?: unknown } | undefined
  return body?._token ?? request.get('x-csrf-token') ?? request.get('x-xsrf-token')
}

function same(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

/**
 * CSRF protection for the `web` routes (a double-submit cookie whose token is signed with
 * APP_KEY): every response carries a token in the `XSRF-TOKEN` cookie and in
 * `response.locals.csrfToken` (views put it in a `_token` field or a meta tag); a POST, PUT,
 * PATCH or DELETE must send it back, as the `_token` field or the `X-CSRF-TOKEN` /
 * `X-XSRF-TOKEN` header, or it is refused with 419 "CSRF token mismatch.", as Laravel does.
 * The cookie is readable by scripts on purpose (axios and Laravel Echo send it back as
 * X-XSRF-TOKEN); the signature is what an attacker who can plant a cookie cannot make.
 * Runs after the body parsers.
 */
export function csrfProtection(options: CsrfOptions) {
  const cookie = { httpOnly: false, secure: options.secure ?? false, sameSite: options.sameSite ?? 'lax', path: '/' } as const
  return (request: Request, response: Response, next: NextFunction): void => {
    const sent = parseCookies(request.headers.cookie)[CSRF_COOKIE]
    const valid = isCsrfToken(sent, options.key)
    const token = valid ? sent : createCsrfToken(options.key)
    if (!valid) response.cookie(CSRF_COOKIE, token, cookie)
    response.locals.csrfToken = token
    if (SAFE_METHODS.has(request.method)) return next()
    const submitted = submittedToken(request)
    if (!valid || typeof submitted !== 'string' || !same(submitted, token)) return next(new HttpError(419, 'CSRF token mismatch.'))
    next()
  }
}
