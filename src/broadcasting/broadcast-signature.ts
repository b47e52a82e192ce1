import { createHmac, timingSafeEqual } from 'node:crypto'
import type { BroadcastMessage } from './contracts.ts'

/**
 * The signed request a process without a socket.io server (a queue worker) posts to the web
 * server's internal endpoint. The body is JSON `{ message, sentAt }`; the header
 * `X-Herald-Signature` is the hex HMAC-SHA256 of the exact body bytes, keyed with APP_KEY.
 * `sentAt` bounds how long a captured request can be replayed.
 */

export const INTERNAL_BROADCAST_PATH = '/_herald/broadcast'
export const SIGNATURE_HEADER = 'x-herald-signature'
/** Not application/json, so a global `express.json()` in front of the endpoint leaves the raw bytes alone. */
export const BROADCAST_CONTENT_TYPE = 'application/vnd.herald.broadcast+json'
/** How far `sentAt` may be from the server's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000

/** A request the endpoint refuses, with the HTTP status to answer. */
export class BroadcastRequestError extends Error {
  override readonly name = 'BroadcastRequestError'
  constructor(
    readonly status: 400 | 403,
    message: string,
  ) {
    super(message)
  }
}

export function signBroadcastBody(body: string | Uint8Array, key: string): string {
  return createHmac('sha256', key).update(body).digest('hex')
}

/** The body and signature header for `message`. */
export function encodeBroadcastRequest(message: BroadcastMessage, key: string, now = Date.now()): { body: string; signature: string } {
  const body = JSON.stringify({ message, sentAt: now })
  return { body, signature: signBroadcastBody(body, key) }
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/**
 * Checks the signature (in constant time) and the timestamp, then the message's shape, and
 * returns the message. Anything wrong throws a BroadcastRequestError: 403 for a signature or
 * timestamp that does not hold, 400 for a signed body that is not a broadcast.
 */
export function verifyBroadcastRequest(
  body: string | Uint8Array,
  signature: string | readonly string[] | undefined,
  key: string,
  now = Date.now(),
): BroadcastMessage {
  const given = typeof signature === 'string' ? signature : ''
  const expected = Buffer.from(signBroadcastBody(body, key), 'hex')
  const provided = /^[0-9a-f]{64}$/i.test(given) ? Buffer.from(given, 'hex') : Buffer.alloc(0)
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    throw new BroadcastRequestError(403, 'Invalid broadcast signature: do this process and the web server share the same APP_KEY?')
  }
  let parsed: { message?: Partial<BroadcastMessage>; sentAt?: unknown }
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')) as typeof parsed
  } catch {
    throw new BroadcastRequestError(400, 'The broadcast body is not JSON.')
  }
  if (typeof parsed.sentAt !== 'number' || Math.abs(now - parsed.sentAt) > MAX_CLOCK_SKEW_MS) {
    throw new BroadcastRequestError(403, 'The broadcast request is too old (or the clocks disagree by more than 5 minutes).')
  }
  const message = parsed.message
  if (
    message === undefined ||
    message === null ||
    !isStringList(message.channels) ||
    typeof message.event !== 'string' ||
    message.data === null ||
    typeof message.data !== 'object' ||
    (message.except !== undefined && message.except !== null && typeof message.except !== 'string')
  ) {
    throw new BroadcastRequestError(400, 'The broadcast body is not a broadcast message (channels, event, data).')
  }
  return message as BroadcastMessage
}
