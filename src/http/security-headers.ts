import type { IncomingMessage, ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import helmet, { type HelmetOptions } from 'helmet'
import { UserError } from '../foundation/errors.ts'
import { errorMessage } from '../foundation/error-message.ts'

type Directives = Record<string, unknown>

/** A Host header that can go into a CSP source as it is: a name or address and a port, nothing else. */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/**
 * The socket of the page's own origin. CSP Level 3 lets `'self'` match ws:/wss: on the same
 * host, but older browsers need the scheme spelled out; the Host comes from the browser's own
 * request, and anything odd in it falls back to `'self'` rather than a broken header.
 */
function sameOriginSockets(request: IncomingMessage): string {
  const host = request.headers.host ?? ''
  return PLAIN_HOST.test(host) ? `ws://${host} wss://${host}` : "'self'"
}

/**
 * Herald's CSP: exactly what the dashboard needs (its module script and stylesheet from
 * app/public, its socket.io connection on the same origin, data: images), no inline script
 * or style, no plugins, and no framing by other sites (clickjacking on its buttons).
 */
function defaultDirectives(https: boolean): Directives {
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'connect-src': ["'self'", (request: IncomingMessage, _response: ServerResponse) => sameOriginSockets(request)],
    'font-src': ["'self'", 'data:'],
    'form-action': ["'self'"],
    'frame-ancestors': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
    // Over plain HTTP (a development server on 127.0.0.1) an upgrade would break every asset.
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  }
}

function defaults(https: boolean): Record<string, unknown> {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: defaultDirectives(https) },
    // HSTS only where the application says it is served over HTTPS: pinned on a development
    // host it would break every other plain-HTTP site on that name for a year.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    // Not helmet's `no-referrer`: with it a browser sends `Origin: null` on same-origin POSTs,
    // which an origin check would refuse; `same-origin` still tells other sites nothing.
    referrerPolicy: { policy: 'same-origin' },
  }
}

/** helmet's older names for its options, so an override under either name replaces Herald's. */
const ALIASES: Record<string, string> = {
  hsts: 'strictTransportSecurity',
  noSniff: 'xContentTypeOptions',
  dnsPrefetchControl: 'xDnsPrefetchControl',
  ieNoOpen: 'xDownloadOptions',
  frameguard: 'xFrameOptions',
  permittedCrossDomainPolicies: 'xPermittedCrossDomainPolicies',
  hidePoweredBy: 'xPoweredBy',
  xssFilter: 'xXssProtection',
}

/** `scriptSrc` and `script-src` are one directive to helmet: merge them as one. */
function kebabKeys(directives: unknown): Directives {
  const result: Directives = {}
  if (directives === null || typeof directives !== 'object') return result
  for (const [name, value] of Object.entries(directives)) result[name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = value
  return result
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object'
}

/**
 * Herald's defaults with the application's options on top: each helmet option replaces
 * Herald's, except CSP directives, which merge one by one (`null` drops one), unless the
 * override says `useDefaults: false`.
 */
export function securityHeaderOptions(overrides: HelmetOptions, https: boolean): HelmetOptions {
  const merged = defaults(https)
  for (const [key, value] of Object.entries(overrides)) {
    const name = ALIASES[key] ?? key
    const base = merged[name]
    if (name === 'contentSecurityPolicy' && isObject(value) && isObject(base) && value.useDefaults !== false) {
      merged[name] = { ...base, ...value, directives: { ...kebabKeys(base.directives), ...kebabKeys(value.directives) } }
    } else {
      merged[name] = value
    }
  }
  return merged as HelmetOptions
}

type Middleware = (request: Request, response: Response, next: NextFunction) => void

/**
 * The security headers of every response (helmet): Content-Security-Policy, X-Frame-Options
 * SAMEORIGIN, X-Content-Type-Options nosniff, Referrer-Policy, Cross-Origin-Opener/Resource-
 * Policy, and HSTS when `https`. `false` sends none.
 *
 * ```ts
 * express.use(securityHeaders({ contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'https://cdn.example.com'] } } }, true))
 * ```
 */
export function securityHeaders(options: HelmetOptions | false, https: boolean): Middleware {
  if (options === false) return (_request, _response, next) => next()
  try {
    return helmet(securityHeaderOptions(options, https)) as Middleware
  } catch (error) {
    // helmet checks the directives up front: a typo in config is a setting to fix, not a crash.
    throw new UserError(`config/http.ts \`headers\` is not valid helmet options: ${errorMessage(error)}`)
  }
}
