import type { Server as HttpServer } from 'node:http'
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible'
import { Server, type ServerOptions } from 'socket.io'
import type { BroadcastLimits } from '../foundation/config.ts'
import type { Logger } from '../foundation/logger.ts'
import { OriginPolicy } from './allowed-origins.ts'
import { socketAuthRequest } from './auth-request.ts'
import type { Authorization, ChannelRegistry, PresenceMember } from './channel-registry.ts'
import type { BroadcastDelivery, BroadcastMessage, UserResolver } from './contracts.ts'
import { defaultUserResolver } from './default-user-resolver.ts'
import { PresenceRoster, type EchoIo, type EchoSocket } from './presence-roster.ts'
import { checkClientData, readChannel, readClientEvent, resolveLimits, tooManyChannels, tooManySubscribes, type Refusal } from './socket-limits.ts'
import { errorMessage } from '../foundation/error-message.ts'

export interface EchoServerOptions {
  /** The HTTP server socket.io attaches to (the express kernel's); `close()` closes it too. */
  httpServer: HttpServer
  /** The authorization callbacks of app/channels.ts. */
  channels: ChannelRegistry
  /** Who the user is, from the handshake and the subscribe payload. Default: {@link defaultUserResolver}. */
  resolveUser?: UserResolver
  /** A socket.io adapter, e.g. `createAdapter(pub, sub)` of @socket.io/redis-adapter, to share rooms between servers. */
  adapter?: ServerOptions['adapter']
  /** socket.io's path. Default `/socket.io`, where the Echo client looks. */
  path?: string
  /** socket.io's CORS settings. Default: the allowed origins, with credentials. */
  cors?: ServerOptions['cors']
  /**
   * The browser origins whose pages may connect (see {@link OriginPolicy}); a handshake from
   * another `Origin` is refused with 403. Default: none, so only clients that send no `Origin`
   * (not browsers) connect. The HTTP kernel passes config/broadcasting.ts `allowedOrigins`.
   */
  allowedOrigins?: readonly string[]
  /** What one socket can make the server hold; each missing one has its default (config/broadcasting.ts `limits`). */
  limits?: Partial<BroadcastLimits>
  /** Where denials (debug) and failing resolvers or channel callbacks (error) are reported. */
  logger?: Logger
}

// socket.io throws on these; a broadcastAs() that returns one must fail with a way out.
const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'])

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** What the server keeps for one socket besides socket.io's rooms. */
interface SocketState {
  // The latest subscribe per channel not yet joined (rate check, authorization, presence
  // join); an unsubscribe, or a newer subscribe, for that channel makes its result stale.
  readonly pending: Map<string, symbol>
}

/**
 * The socket.io server Laravel Echo talks to (../shared/ECHO-PROTOCOL.md), sharing the
 * application's HTTP server:
 *
 * ```ts
 * const echo = new EchoServer({ httpServer, channels })
 * await echo.deliver({ channels: ['orders'], event: 'OrderPlaced', data: { id: 1 } })
 * // in the browser: Echo.channel('orders').listen('.OrderPlaced', (data) => ...)
 * ```
 *
 * Private and presence subscriptions are authorized in this process by the channel registry,
 * with the user the resolver finds in the socket's handshake and the subscribe payload's
 * `auth.headers`; no HTTP round trip to `/broadcasting/auth` as the reference server makes.
 * Deliveries and whispers go through the socket.io adapter, so with the Redis adapter they
 * reach the clients of every server; presence does too (see {@link PresenceRoster}).
 */
export class EchoServer implements BroadcastDelivery {
  /** The socket.io server, for what Herald does not wrap (middleware, metrics). */
  readonly io: EchoIo
  private readonly channels: ChannelRegistry
  private readonly resolveUser: UserResolver
  private readonly logger: Logger
  private readonly roster: PresenceRoster
  /** The limits in force, defaults filled in. */
  readonly limits: BroadcastLimits
  private readonly origins: OriginPolicy
  private readonly subscribeRate: RateLimiterMemory
  private readonly inFlight = new Set<Promise<void>>()
  // Set before socket.io starts disconnecting clients, which happens synchronously inside close().
  private closed = false
  private closing: Promise<void> | null = null

  constructor(options: EchoServerOptions) {
    this.channels = options.channels
    this.resolveUser = options.resolveUser ?? defaultUserResolver
    this.logger = options.logger ?? silent
    this.limits = resolveLimits(options.limits)
    this.origins = new OriginPolicy(options.allowedOrigins ?? [])
    this.subscribeRate = new RateLimiterMemory({ points: this.limits.subscribeRate.points, duration: this.limits.subscribeRate.seconds })
    this.io = new Server(options.httpServer, {
      path: options.path ?? '/socket.io',
      serveClient: false,
      // Bigger frames close their connection unread: the bound on what one message can make the server buffer.
      maxHttpBufferSize: this.limits.frameBytes,
      // Every new session, polling or WebSocket, starts here: a page of a foreign site is
      // turned away before it has a socket (cross-site WebSocket hijacking).
      allowRequest: (request, callback) => {
        const origin = request.headers.origin
        if (this.origins.allows(origin)) return callback(null, true)
        this.logger.debug(`socket.io handshake refused: ${this.origins.refusal(origin)}`)
        callback(this.origins.refusal(origin), false)
      },
      cors: options.cors ?? { origin: (origin, callback) => callback(null, this.origins.allows(origin)), credentials: true },
      ...(options.adapter ? { adapter: options.adapter } : {}),
    })
    this.roster = new PresenceRoster(this.io)
    this.io.on('connection', (socket) => this.accept(socket))
  }

  /**
   * Emits `(event, channel, data)` to every socket in each of the message's channels, except
   * the socket `message.except` (`toOthers()`). A socket in two of the channels gets it twice,
   * once per channel name, which is what Echo filters on.
   */
  async deliver(message: BroadcastMessage): Promise<void> {
    if (this.closed) {
      throw new Error(`The socket.io server is closed, so "${message.event}" cannot be delivered: shut the broadcast driver down before the HTTP kernel.`)
    }
    if (RESERVED_EVENTS.has(message.event)) {
      throw new Error(`Cannot broadcast "${message.event}": socket.io reserves that name. Rename the event with broadcastAs().`)
    }
    for (const channel of message.channels) {
      const room = message.except ? this.io.to(channel).except(message.except) : this.io.to(channel)
      room.emit(message.event, channel, message.data)
    }
  }

  /** The members of a presence channel (wire name, `presence-chat.1`), one per user, on every server. */
  members(channel: string): Promise<PresenceMember[]> {
    return this.roster.members(channel)
  }

  /**
   * Disconnects every client and closes socket.io, its adapter and the HTTP server it is
   * attached to, then waits for subscriptions still being authorized. Idempotent. Members of a
   * closing server are not announced as leaving: their clients reconnect, and Echo subscribes
   * again, wherever they land.
   */
  close(): Promise<void> {
    this.closed = true
    this.closing ??= this.runClose()
    return this.closing
  }

  private async runClose(): Promise<void> {
    await this.io.close()
    await Promise.allSettled([...this.inFlight])
  }

  private accept(socket: EchoSocket): void {
    socket.data.presence = {}
    const state: SocketState = { pending: new Map() }
    socket.on('subscribe', (payload: unknown) => this.track(this.subscribe(socket, payload, state), socket, 'subscribe'))
    socket.on('unsubscribe', (payload: unknown) => this.track(this.unsubscribe(socket, payload, state), socket, 'unsubscribe'))
    socket.on('client event', (payload: unknown) => this.whisper(socket, payload))
    socket.on('disconnect', () => {
      state.pending.clear()
      void this.subscribeRate.delete(socket.id)
      if (this.closed) return
      for (const leaving of this.roster.disconnected(socket)) this.track(leaving, socket, 'disconnect')
    })
  }

  /**
   * Checks the frame and the socket's limits before anything is stored: a refused channel gets
   * `subscription_error` and leaves nothing behind. The ticket is taken before the first await
   * so that an unsubscribe that arrives meanwhile wins, as the client meant.
   */
  private async subscribe(socket: EchoSocket, payload: unknown, state: SocketState): Promise<void> {
    const read = readChannel(payload, this.limits)
    if (!read.ok) return this.refuse(socket, read)
    const { channel } = read
    const { pending } = state
    if (!socket.rooms.has(channel) && !pending.has(channel) && heldChannels(socket, pending) >= this.limits.channelsPerSocket) {
      return this.refuse(socket, tooManyChannels(channel, this.limits))
    }
    const ticket = Symbol(channel)
    pending.set(channel, ticket)
    const withinRate = await this.consumeSubscribe(socket)
    if (pending.get(channel) !== ticket || !socket.connected) return
    if (!withinRate) {
      pending.delete(channel)
      return this.refuse(socket, tooManySubscribes(channel, this.limits))
    }
    if (!isGuarded(channel)) {
      pending.delete(channel)
      await socket.join(channel)
      return
    }
    const outcome = await this.authorize(socket, channel, (payload as { auth?: unknown }).auth)
    if (pending.get(channel) !== ticket || !socket.connected) return
    if (outcome === 'error' || !outcome.allowed) {
      pending.delete(channel)
      socket.emit('subscription_error', channel, outcome === 'error' ? 500 : 403)
      return
    }
    if (channel.startsWith('presence-')) {
      if (outcome.member === null) throw new Error(`The channel registry allowed "${channel}" without a member.`)
      // Still pending while queued behind other steps on the channel: an unsubscribe now must leave after it.
      await this.roster.join(socket, channel, outcome.member)
    } else {
      await socket.join(channel)
    }
    if (pending.get(channel) === ticket) pending.delete(channel)
  }

  /** False when the socket is over its subscribe rate. */
  private async consumeSubscribe(socket: EchoSocket): Promise<boolean> {
    try {
      await this.subscribeRate.consume(socket.id)
      return true
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) return false
      throw outcome
    }
  }

  private refuse(socket: EchoSocket, refusal: Refusal): void {
    this.logger.debug(`socket.io frame from socket ${socket.id} refused with ${refusal.status}: ${refusal.reason}.`)
    socket.emit('subscription_error', refusal.channel, refusal.status)
  }

  /** The registry's verdict for this socket's user, or 'error' when the resolver or a channel callback threw. */
  private async authorize(socket: EchoSocket, channel: string, auth: unknown): Promise<Authorization | 'error'> {
    try {
      const user = await this.resolveUser(socketAuthRequest(socket.handshake, auth))
      const verdict = await this.channels.authorize(user, channel)
      if (!verdict.allowed) {
        const why = user === null ? 'the user resolver found no user in the handshake or the subscribe headers' : `denied user ${user.id}`
        this.logger.debug(`Subscription to "${channel}" refused for socket ${socket.id}: ${why}.`)
      }
      return verdict
    } catch (error) {
      this.logger.error(`Authorizing "${channel}" for socket ${socket.id} failed: ${errorMessage(error)}. Check the user resolver and the Broadcast.channel callback for it.`)
      return 'error'
    }
  }

  private async unsubscribe(socket: EchoSocket, payload: unknown, state: SocketState): Promise<void> {
    const read = readChannel(payload, this.limits)
    if (!read.ok) return this.refuse(socket, read)
    const { channel } = read
    const wasPending = state.pending.delete(channel)
    // A channel the socket never held costs nothing: no step is queued for a name it made up.
    if (!wasPending && !socket.rooms.has(channel) && socket.data.presence?.[channel] === undefined) return
    if (channel.startsWith('presence-')) await this.roster.leave(socket, channel)
    else await socket.leave(channel)
  }

  /**
   * Forwards a whisper to the others in the room, only for `client-*` events on a private or
   * presence channel the sender has joined: otherwise any client could fake a server event, or
   * talk on a public channel every visitor can read.
   */
  private whisper(socket: EchoSocket, payload: unknown): void {
    const read = readClientEvent(payload, this.limits)
    if (!read.ok) return this.refuse(socket, read)
    const { channel, event, data } = read
    if (!event.startsWith('client-') || !isGuarded(channel) || !socket.rooms.has(channel)) return
    const oversize = checkClientData(channel, data, this.limits)
    if (oversize !== null) return this.refuse(socket, oversize)
    try {
      socket.to(channel).emit(event, channel, data)
    } catch (error) {
      // socket.io runs this handler on a tick of its own: a throw here would end the process.
      this.logger.error(`Forwarding "${event}" on "${channel}" from socket ${socket.id} failed: ${errorMessage(error)}`)
    }
  }

  /** Keeps the handler's promise until it settles, so close() can wait for it and no failure goes unreported. */
  private track(work: Promise<void>, socket: EchoSocket, what: string): void {
    const tracked = work.catch((error: unknown) => {
      this.logger.error(`socket.io "${what}" from socket ${socket.id} failed: ${errorMessage(error)}`)
    })
    this.inFlight.add(tracked)
    void tracked.finally(() => this.inFlight.delete(tracked))
  }
}

/** The channels a socket is in or joining, its own room aside. */
function heldChannels(socket: EchoSocket, pending: ReadonlyMap<string, symbol>): number {
  let joining = 0
  for (const channel of pending.keys()) if (!socket.rooms.has(channel)) joining++
  return socket.rooms.size - (socket.rooms.has(socket.id) ? 1 : 0) + joining
}

function isGuarded(channel: string): boolean {
  return channel.startsWith('private-') || channel.startsWith('presence-')
}
