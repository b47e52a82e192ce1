import type { AuthRequest, BroadcastUser, UserResolver } from './contracts.ts'

/**
 * A placeholder until Herald has authentication: `Authorization: Bearer <token>` makes the
 * token itself the user's id (`{ id: '42' }`, a string), no header makes a guest (null).
 * It trusts whatever the client sends, so an application replaces it with a resolver that
 * checks a session cookie or a signed token:
 *
 * ```ts
 * createHttpKernel(app, { channels, resolveUser: async (request) => sessions.user(request.cookies.session) })
 * ```
 */
export const defaultUserResolver: UserResolver = (request: AuthRequest): BroadcastUser | null => {
  const header = request.headers['authorization']
  const value = Array.isArray(header) ? header[0] : header
  const token = /^Bearer\s+(\S+)\s*$/i.exec(value ?? '')?.[1]
  return token === undefined ? null : { id: token }
}
