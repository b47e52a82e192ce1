import { createHmac, timingSafeEqual } from 'node:crypto'
import { facadeRoot, signingKey, type AuthRequest } from 'herald'

/**
 * The demo's stand-in for a session until Herald has one: the dashboard page carries a token
 * for its user (`<meta name="broadcast-token">`), signed with APP_KEY, which its socket sends
 * as `Authorization: Bearer <token>` with each private subscription. A socket without it is a
 * guest. Anyone who can open the page gets the token: the demo signs in whoever opens it, and
 * a real application issues tokens at login instead.
 */
const PURPOSE = 'herald-demo-broadcast-user'

// Without APP_KEY (outside production), the framework's key of this process: its pages' tokens
// work on its own sockets only, like its CSRF tokens.
function key(): Buffer {
  const app = facadeRoot()
  return signingKey(app.config.get('app'), app.logger)
}

function signature(userId: number): Buffer {
  return createHmac('sha256', key()).update(`${PURPOSE}:${userId}`).digest()
}

/** The token the dashboard page hands its socket for this user: `<id>.<hex HMAC>`. */
export function broadcastToken(userId: number): string {
  return `${userId}.${signature(userId).toString('hex')}`
}

/** The user id a request's `Authorization: Bearer` token was signed for, or null (no token, a forged one). */
export function tokenUserId(request: AuthRequest): number | null {
  const header = request.headers['authorization']
  const value = Array.isArray(header) ? header[0] : header
  const match = /^Bearer\s+(\d{1,15})\.([0-9a-f]{64})\s*$/i.exec(value ?? '')
  if (match === null) return null
  const userId = Number(match[1])
  const given = Buffer.from(match[2]!, 'hex')
  return timingSafeEqual(given, signature(userId)) ? userId : null
}
