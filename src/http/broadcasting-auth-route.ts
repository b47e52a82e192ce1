import type { Request, Response } from 'express'
import type { OriginPolicy } from '../broadcasting/allowed-origins.ts'
import { httpAuthRequest } from '../broadcasting/auth-request.ts'
import type { ChannelRegistry } from '../broadcasting/channel-registry.ts'
import type { UserResolver } from '../broadcasting/contracts.ts'

/**
 * `POST /broadcasting/auth` with `channel_name` (and optionally `socket_id`, accepted and
 * unused: Herald's socket server authorizes subscriptions itself), as JSON or a form. Answers
 * as Laravel does for clients that authorize over HTTP: 200 `{}` for a private channel,
 * 200 `{ channel_data }` (the member as a JSON string) for a presence channel, 403 when denied.
 * A request from a page of an origin `origins` does not allow is a 403 before anything else:
 * another site must not learn what its visitors may subscribe to. A channel name longer than
 * the sockets' limit is a 414, as it would be on a socket.
 */
export function broadcastingAuthRoute(channels: ChannelRegistry, resolveUser: UserResolver, origins: OriginPolicy, maxNameLength: number) {
  return async (request: Request, response: Response): Promise<void> => {
    if (!origins.allows(request.headers.origin)) {
      response.status(403).json({ message: origins.refusal(request.headers.origin) })
      return
    }
    const body: unknown = request.body
    const channel = body !== null && typeof body === 'object' ? (body as { channel_name?: unknown }).channel_name : undefined
    if (typeof channel !== 'string' || channel === '') {
      response.status(400).json({
        message: 'POST /broadcasting/auth needs channel_name, the channel as Echo names it (private-orders.1), in a JSON or form body.',
      })
      return
    }
    if (channel.length > maxNameLength) {
      response.status(414).json({ message: `channel_name has ${channel.length} characters, over the limit of ${maxNameLength} (BROADCAST_MAX_CHANNEL_NAME).` })
      return
    }
    const user = await resolveUser(httpAuthRequest(request))
    const verdict = await channels.authorize(user, channel)
    if (!verdict.allowed) {
      const message =
        user === null
          ? `No user for this request, so "${channel}" is refused: send the credentials the user resolver reads (by default Authorization: Bearer <token>).`
          : `User ${user.id} may not subscribe to "${channel}".`
      response.status(403).json({ message })
      return
    }
    response.status(200).json(verdict.member === null ? {} : { channel_data: JSON.stringify(verdict.member) })
  }
}
