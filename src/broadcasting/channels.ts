/**
 * Broadcast channels, named on the wire as Laravel Echo expects: `orders`,
 * `private-orders.1`, `presence-chat.1`.
 */
export class Channel {
  constructor(readonly name: string) {}

  /** The name clients subscribe to. */
  get wireName(): string {
    return this.name
  }

  toString(): string {
    return this.wireName
  }
}

/** A channel whose subscribers must be authorized (`Broadcast.channel(...)` in app/channels.ts). */
export class PrivateChannel extends Channel {
  override get wireName(): string {
    return `private-${this.name}`
  }
}

/** A private channel that also tracks who is subscribed. */
export class PresenceChannel extends Channel {
  override get wireName(): string {
    return `presence-${this.name}`
  }
}
