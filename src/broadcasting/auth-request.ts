import type { AuthRequest } from './contracts.ts'

type Headers = Record<string, string | string[] | undefined>

/**
 * The request a user resolver sees for a socket subscription: the handshake's headers with the
 * subscribe payload's `auth.headers` on top (Echo sends `Authorization`, `X-CSRF-TOKEN` there,
 * per subscription), the cookies of the merged `cookie` header, and socket.io's
 * `handshake.auth`. Header names are lower-case, as Node gives them for HTTP requests, so one
 * resolver reads a socket and an HTTP request the same way.
 */
export function socketAuthRequest(handshake: { headers: Headers; auth: Record<string, unknown> }, subscribeAuth: unknown): AuthRequest {
  const headers: Headers = { ...handshake.headers, ...payloadHeaders(subscribeAuth) }
  return { headers, cookies: parseCookies(headers['cookie']), auth: handshake.auth ?? {} }
}

/** The request a user resolver sees for `POST /broadcasting/auth`: its headers, cookies and body. */
export function httpAuthRequest(request: { headers: Headers; body?: unknown }): AuthRequest {
  const body = request.body
  return {
    headers: request.headers,
    cookies: parseCookies(request.headers['cookie']),
    auth: body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {},
  }
}

/** `a=1; b=x%20y` → `{ a: '1', b: 'x y' }`; the first of a repeated name wins, as browsers send the most specific first. */
export function parseCookies(header: string | string[] | undefined): Record<string, string> {
  const cookies: Record<string, string> = {}
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '')
  for (const pair of text.split(';')) {
    const at = pair.indexOf('=')
    if (at <= 0) continue
    const name = pair.slice(0, at).trim()
    if (name === '' || Object.hasOwn(cookies, name)) continue
    let value = pair.slice(at + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    try {
      cookies[name] = decodeURIComponent(value)
    } catch {
      // A malformed escape is kept as sent rather than failing the whole request.
      cookies[name] = value
    }
  }
  return cookies
}

/** The string-valued entries of the subscribe payload's `auth.headers`, with lower-case names. */
function payloadHeaders(auth: unknown): Headers {
  const headers: Headers = {}
  if (auth === null || typeof auth !== 'object') return headers
  const given = (auth as { headers?: unknown }).headers
  if (given === null || typeof given !== 'object') return headers
  for (const [name, value] of Object.entries(given)) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) headers[name.toLowerCase()] = value
  }
  return headers
}
