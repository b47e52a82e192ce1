import { createHash, timingSafeEqual } from 'node:crypto'
import { BlockList, isIP } from 'node:net'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { UserError } from '../foundation/errors.ts'
import type { OpsConfig } from '../foundation/ops-config.ts'
import { HttpError } from './http-error.ts'

/** Headers a reverse proxy adds: their presence means the peer is the proxy, not the client. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip']

/** Whether an address may pass; `*` lets every address in, `none` (or an empty list) none. */
export type AddressMatcher = (address: string | null) => boolean

/**
 * The allow-list as a matcher (node's BlockList: CIDR ranges and exact addresses, IPv4-mapped
 * IPv6 addresses such as `::ffff:127.0.0.1` matching their IPv4 rules). A malformed entry is a
 * one-line UserError naming it.
 */
export function addressMatcher(entries: readonly string[]): AddressMatcher {
  if (entries.includes('*')) return (address) => address !== null
  const list = new BlockList()
  for (const entry of entries) {
    if (entry === 'none') continue
    const [address = '', prefix, extra] = entry.split('/')
    const family = isIP(address)
    const bits = prefix === undefined ? null : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN
    const max = family === 6 ? 128 : 32
    if (family === 0 || extra !== undefined || (bits !== null && !(bits <= max))) {
      throw new UserError(`OPS_ALLOWED_IPS: "${entry}" is not an IP address or a CIDR range (e.g. 10.0.0.0/8, ::1, * for any, none).`)
    }
    const type = family === 6 ? 'ipv6' : 'ipv4'
    if (bits === null) list.addAddress(address, type)
    else list.addSubnet(address, bits, type)
  }
  return (address) => {
    if (address === null) return false
    const family = isIP(address)
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }
}

/**
 * The client's address as far as it can be trusted: express's `request.ip` when `trust proxy`
 * is set (it then reads X-Forwarded-For as configured); otherwise the peer's, unless the
 * request came through a proxy, whose own (often loopback) address says nothing of the client.
 */
function clientAddress(request: Request): string | null {
  if (request.app.get('trust proxy')) return request.ip ?? null
  if (FORWARDING_HEADERS.some((header) => request.headers[header] !== undefined)) return null
  return request.socket.remoteAddress ?? null
}

/** The token the request presents: `Authorization: Bearer <token>`, else `?token=`. */
function presentedToken(request: Request): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')
  if (match !== null) return match[1]!
  const query = (request.query as Record<string, unknown> | undefined)?.token
  return typeof query === 'string' && query !== '' ? query : null
}

/** Compares in constant time whatever the lengths (both sides hashed first). */
function sameToken(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(presented), digest(expected))
}

/** Guards for the operations endpoints, from config/ops.ts. */
export interface OpsAccess {
  /** Middleware for `/health` (open to all with `publicHealth`) or `/metrics`. */
  guard(endpoint: 'health' | 'metrics'): RequestHandler
}

/**
 * Who may read `/health` and `/metrics` (see {@link OpsConfig}): the token, or an allowed
 * address. Refused: 401 with `WWW-Authenticate: Bearer` when no token was presented and one
 * would do, 403 for a wrong token or when no token is configured; either with a bare message,
 * never the reason.
 *
 * ```ts
 * const ops = opsAccess(app.config.get('ops'))
 * express.get('/metrics', ops.guard('metrics'), metricsRoute)
 * ```
 */
export function opsAccess(config: OpsConfig): OpsAccess {
  const allowed = addressMatcher(config.allowedIps)
  const token = config.token
  const pass: RequestHandler = (_request, _response, next) => next()
  const check: RequestHandler = (request: Request, response: Response, next: NextFunction) => {
    const presented = token === null ? null : presentedToken(request)
    // A wrong token is refused even from an allowed address: a stale secret should be noticed.
    if (presented !== null) return next(sameToken(presented, token!) ? undefined : new HttpError(403, 'Forbidden.'))
    if (allowed(clientAddress(request))) return next()
    if (token === null) return next(new HttpError(403, 'Forbidden.'))
    response.setHeader('WWW-Authenticate', 'Bearer')
    next(new HttpError(401, 'Unauthorized.'))
  }
  return { guard: (endpoint) => (endpoint === 'health' && config.publicHealth ? pass : check) }
}
