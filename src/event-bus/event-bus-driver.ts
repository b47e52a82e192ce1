/**
 * What an event bus driver does: carry published events to the consuming services. The manager
 * encodes and decodes events and runs the subscriptions; a driver moves messages, keeps
 * delivery at least once and suppresses a second delivery of the same event id.
 */

/** One published event, as it travels: the same `id` on every delivery of it. */
export interface BusMessage {
  /** A ULID given when the event was published (before the outbox, so a relayed copy keeps it). */
  readonly id: string
  readonly name: string
  /** The event, encoded by Herald's serializer (JSON). */
  readonly payload: string
  /** Epoch milliseconds. */
  readonly publishedAt: number
  /** The publishing service. */
  readonly source: string
}

/** A consumer group and what it handles: a service's shared group, or one process's fanout group. */
export interface BusGroup {
  readonly group: string
  /** Event names: one stream each. */
  readonly events: readonly string[]
  /** Destroy the group when consumption stops (a fanout group belongs to one process). */
  readonly transient: boolean
  /** Runs the subscriptions; a rejection leaves the message unacknowledged, to be delivered again. */
  handle(message: BusMessage): Promise<void>
}

export interface ConsumeOptions {
  readonly groups: readonly BusGroup[]
  /** This process's consumer name within its groups. */
  readonly consumer: string
  /** Abort to stop: the messages in hand are finished and acknowledged first. */
  readonly signal: AbortSignal
  /** Called once the groups exist, so events published from now on are received. */
  readonly onReady?: () => void
}

/** One stream and one of its groups, as `event-bus:status` shows them. */
export interface BusGroupStatus {
  readonly stream: string
  readonly length: number
  readonly group: string
  readonly consumers: number
  /** Delivered, not yet acknowledged. */
  readonly pending: number
  /** Entries not yet delivered to the group (null when Redis cannot tell). */
  readonly lag: number | null
}

export interface EventBusDriver {
  /** Sends messages to the bus; rejects when they could not all be sent. */
  publish(messages: readonly BusMessage[]): Promise<void>
  /** Consumes until `options.signal` aborts. */
  consume(options: ConsumeOptions): Promise<void>
  /** The streams under this bus's prefix and their groups. */
  status(): Promise<BusGroupStatus[]>
  /** Idempotent. */
  close(): Promise<void>
}
