/**
 * The seams of broadcasting: what a broadcast is on the wire, what delivers it, and who the
 * user is. The socket.io server (socket-server.ts), the broadcast manager and its drivers meet
 * here.
 */

/** One broadcast, as every driver carries it. */
export interface BroadcastMessage {
  /** Wire channel names: `orders`, `private-orders.1`, `presence-chat.1`. */
  readonly channels: readonly string[]
  /** The event name clients listen for (`broadcastAs()`, else the event's name). */
  readonly event: string
  /** The payload (`broadcastWith()`, else the event's public data), JSON-safe. */
  readonly data: Record<string, unknown>
  /** A socket id not to deliver to (`toOthers()`), from the request's X-Socket-ID header. */
  readonly except?: string | null
}

/** Delivers broadcasts to connected clients: a socket.io server in this process, or a bridge to one. */
export interface BroadcastDelivery {
  deliver(message: BroadcastMessage): Promise<void>
}

/** A broadcast connection (config/broadcasting.ts): socketio, redis, log, null. */
export interface BroadcastDriver extends BroadcastDelivery {
  readonly connection: string
  close(): Promise<void>
}

/** The authenticated user, as the application's resolver returns it; null for a guest. */
export interface BroadcastUser {
  readonly id: string | number
  readonly [key: string]: unknown
}

/** What the user resolver sees: the socket handshake plus the subscribe payload's headers, or an HTTP request's. */
export interface AuthRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly cookies: Readonly<Record<string, string>>
  /** socket.io's `handshake.auth` (e.g. `{ token }`), or the request body for HTTP. */
  readonly auth: Readonly<Record<string, unknown>>
}

export type UserResolver = (request: AuthRequest) => BroadcastUser | null | Promise<BroadcastUser | null>

/**
 * A channel callback in app/channels.ts: false denies; true allows a private channel; for a
 * presence channel the returned object is the member's info (`user_info`).
 */
export type ChannelCallback = (
  user: BroadcastUser,
  ...params: string[]
) => boolean | Record<string, unknown> | null | undefined | Promise<boolean | Record<string, unknown> | null | undefined>
