import { ShouldBroadcast, ShouldBroadcastNow } from '../events/contracts.ts'
import type { Channel } from './channels.ts'
import { currentSocketId, excludeSocket } from './socket-context.ts'

/** A channel: a Channel object, or its wire name (`orders`, `private-orders.1`). */
export type ChannelLike = Channel | string

interface AnonymousData {
  readonly channels: readonly ChannelLike[]
  readonly name: string
  readonly payload: Record<string, unknown>
}

const DATA = Symbol('anonymous broadcast')

/**
 * The event behind an anonymous broadcast. Its payload is also its own data, so that
 * `Broadcast.fake()` predicates see `{ id }` as they would an event's properties.
 */
class AnonymousBroadcastBase {
  private readonly [DATA]: AnonymousData

  constructor(data: AnonymousData) {
    this[DATA] = data
    for (const [key, value] of Object.entries(data.payload)) {
      if (!(key in this)) Object.defineProperty(this, key, { value, enumerable: true })
    }
  }
  broadcastOn(): ChannelLike[] {
    return [...this[DATA].channels]
  }
  broadcastAs(): string {
    return this[DATA].name
  }
  broadcastWith(): Record<string, unknown> {
    return this[DATA].payload
  }
}

/** What `send()` broadcasts: through the queue, like a ShouldBroadcast event. */
class AnonymousEvent extends ShouldBroadcast(AnonymousBroadcastBase) {}
/** What `sendNow()` broadcasts: right away, like a ShouldBroadcastNow event. */
class AnonymousEventNow extends ShouldBroadcastNow(AnonymousBroadcastBase) {}

/**
 * Laravel's anonymous broadcast: a message on channels with no event class behind it.
 * `send()` goes through the queue as a ShouldBroadcast event would, `sendNow()` goes at once;
 * `Broadcast.fake()` records it under its name.
 *
 * ```ts
 * await Broadcast.on('orders').as('OrderShipped').with({ id: 1 }).sendNow()
 * await Broadcast.on(new PrivateChannel(`orders.${userId}`)).with({ id: 1 }).toOthers().send()
 * ```
 */
export class AnonymousBroadcast {
  private name = 'AnonymousEvent'
  private payload: Record<string, unknown> = {}
  private others = false

  constructor(
    private readonly channels: readonly ChannelLike[],
    private readonly broadcast: (eventName: string, event: object) => Promise<unknown>,
  ) {}

  /** The event name clients listen for (default `AnonymousEvent`). */
  as(name: string): this {
    this.name = name
    return this
  }

  /** The payload: plain, JSON-safe data. */
  with(payload: Record<string, unknown>): this {
    this.payload = payload
    return this
  }

  /** Leaves out the socket of the current request (its X-Socket-ID). */
  toOthers(): this {
    this.others = true
    return this
  }

  /** Broadcasts through the queue (the default connection), or at once where there is none. */
  send(): Promise<void> {
    return this.emit(new AnonymousEvent(this.data()))
  }

  /** Broadcasts at once. */
  sendNow(): Promise<void> {
    return this.emit(new AnonymousEventNow(this.data()))
  }

  private data(): AnonymousData {
    return { channels: this.channels, name: this.name, payload: this.payload }
  }

  private async emit(event: AnonymousBroadcastBase): Promise<void> {
    if (this.others) excludeSocket(event, currentSocketId())
    await this.broadcast(this.name, event)
  }
}
