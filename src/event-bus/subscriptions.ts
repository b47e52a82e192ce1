import { eventClassName } from '../events/dispatchable.ts'

/** What a subscription's listener is told about a delivery besides the event. */
export interface BusDelivery {
  /** The event's id on the bus: the same on every delivery of it. */
  readonly id: string
  readonly name: string
  readonly publishedAt: Date
  /** The publishing service. */
  readonly source: string
}

/** A listener of published events: its rejection leaves the event to be delivered again. */
export type BusListener<E> = (event: E, delivery: BusDelivery) => unknown

export interface SubscribeOptions {
  /**
   * Every process of this service receives the event (a consumer group per process), rather
   * than one of them (the service's shared group). For caches to clear, sockets to notify.
   */
  readonly fanout?: boolean
}

export interface Subscription {
  readonly name: string
  readonly listener: BusListener<never>
  readonly fanout: boolean
}

/** The subscriptions of this process, by event name, and the event classes they name. */
export class Subscriptions {
  private readonly byName = new Map<string, Subscription[]>()
  private readonly classes = new Map<string, Function>()

  /** Adds one; the result removes it. */
  add(event: Function | string, listener: BusListener<never>, options: SubscribeOptions): () => void {
    const name = typeof event === 'string' ? event : eventClassName(event)
    if (typeof event === 'function') this.classes.set(name, event)
    const subscription: Subscription = { name, listener, fanout: options.fanout === true }
    const list = this.byName.get(name) ?? []
    this.byName.set(name, [...list, subscription])
    return () => {
      const rest = (this.byName.get(name) ?? []).filter((item) => item !== subscription)
      if (rest.length === 0) this.byName.delete(name)
      else this.byName.set(name, rest)
    }
  }

  /** The event names with subscriptions of one kind. */
  names(fanout: boolean): string[] {
    return [...this.byName].filter(([, list]) => list.some((item) => item.fanout === fanout)).map(([name]) => name)
  }

  of(name: string, fanout: boolean): Subscription[] {
    return (this.byName.get(name) ?? []).filter((item) => item.fanout === fanout)
  }

  classFor(name: string): Function | undefined {
    return this.classes.get(name)
  }

  get size(): number {
    return this.byName.size
  }
}
