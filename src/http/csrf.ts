import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'
import { parseCookies } from '../broadcasting/auth-request.ts'
import { HttpError } from './http-error.ts'

/** The cookie that holds the token (Laravel's name). */
export const CSRF_COOKIE = 'XSRF-TOKEN'
const TOKEN = /^[0-9a-f]{64}$/
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

function submittedToken(request: Request): unknown {
  const body = request.body as { _token?: unknown } | undefined
  return body?._token ?? request.get('x-csrf-token') ?? request.get('x-xsrf-token')
}

function same(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

/**
 * CSRF protection for the `web` routes (a double-submit cookie): every response carries a
 * token in the `XSRF-TOKEN` cookie and in `response.locals.csrfToken` (views put it in a
 * `_token` field or a meta tag); a POST, PUT, PATCH or DELETE must send it back, as the
 * `_token` field or the `X-CSRF-TOKEN` / `X-XSRF-TOKEN` header, or it is refused with 419
 * "CSRF token mismatch.", as Laravel does. Runs after the body parsers.
 */
export function csrfProtection() {
  return (request: Request, response: Response, next: NextFunction): void => {
    let token = parseCookies(request.headers.cookie)[CSRF_COOKIE]
    const known = token !== undefined && TOKEN.test(token)
    if (!known) {
      token = randomBytes(32).toString('hex')
      response.cookie(CSRF_COOKIE, token, { httpOnly: true, sameSite: 'lax', path: '/' })
    }
    response.locals.csrfToken = token
    if (SAFE_METHODS.has(request.method)) return next()
    const submitted = submittedToken(request)
    if (!known || typeof submitted !== 'string' || !same(submitted, token!)) return next(new HttpError(419, 'CSRF token mismatch.'))
    next()
  }
}
