import { eventClassName } from '../dispatchable.ts'
import { routedMethodName } from '../listener.ts'
import { EventStore } from './event-store.ts'

let storeLocator: (() => EventStore) | null = null

/** @internal The facade root installs its store here so `Account.retrieve(id)` needs no store argument. */
export function setAggregateStoreLocator(locate: () => EventStore): void {
  storeLocator = locate
}

/** The application's store, as the facades see it. */
function defaultStore(): EventStore {
  if (storeLocator === null) {
    throw new Error('No event store for AggregateRoot.retrieve() or persist(): pass one, or import from "herald" so the facades are set up.')
  }
  return storeLocator()
}

/** `applyOrderPlaced` for OrderPlaced, `applyOrderShipped` for `static eventName = 'order.shipped'`. */
function applyMethodName(eventName: string): string {
  return `apply${routedMethodName(eventName).slice('handle'.length)}`
}

/**
 * An event-sourced aggregate, as in Spatie's laravel-event-sourcing and EventSauce: its state is
 * the events it recorded. `record(event)` applies an event at once (through the
 * `apply<EventName>(event)` method, if there is one) and keeps it for `persist()`, which appends
 * the recorded events to the stream named by the aggregate's id (failing with ConcurrencyError
 * when someone else appended since it was retrieved) and then dispatches them to their listeners.
 * `retrieve(id)` rebuilds an aggregate by applying its stream's events in order.
 *
 * ```ts
 * class Account extends AggregateRoot {
 *   balance = 0
 *   deposit(amount: number) { return this.record(new MoneyDeposited(amount)) }
 *   applyMoneyDeposited(event: MoneyDeposited) { this.balance += event.amount }
 * }
 * const account = await Account.retrieve('account-1')
 * await account.deposit(10).persist()
 * ```
 */
export abstract class AggregateRoot {
  private applied = 0
  private persisted = 0
  private pending: object[] = []
  private store: EventStore | null = null

  constructor(readonly id: string) {}

  /** Rebuilds the aggregate with this id from its stream (a new one when there is none). */
  static async retrieve<T extends AggregateRoot>(this: new (id: string) => T, id: string, store: EventStore = defaultStore()): Promise<T> {
    const aggregate = new this(id)
    for (const { event } of await store.load(id)) aggregate.applyEvent(event)
    aggregate.persisted = aggregate.applied
    aggregate.store = store
    return aggregate
  }

  /** The version of the last event applied: the stream's, plus the events recorded since. */
  get version(): number {
    return this.applied
  }

  /** The events recorded since the last `persist()`. */
  get recordedEvents(): readonly object[] {
    return this.pending
  }

  /**
   * Appends the recorded events to the stream, expecting it at the version it was retrieved at,
   * then dispatches them in order. A ConcurrencyError leaves them recorded: retrieve the
   * aggregate again and retry the command. A listener's failure rejects after they are stored.
   * Events the stream already holds (same `eventId`: a retried command) are neither stored nor
   * dispatched again; this object has applied them, so retrieve the aggregate for its state.
   *
   * ```ts
   * await (await Account.retrieve('account-1')).deposit(10).persist()
   * ```
   */
  async persist(store: EventStore = this.store ?? defaultStore()): Promise<this> {
    const pending = this.pending
    if (pending.length === 0) return this
    const result = await store.append(this.id, pending, this.persisted)
    const appended = new Set(result.appended.map((row) => row.eventId))
    this.pending = []
    this.persisted = result.version
    this.applied = result.version
    this.store = store
    await store.dispatchStored(pending.filter((event) => appended.has(EventStore.idOf(event))))
    return this
  }

  /** Applies `event` now and keeps it for `persist()`. */
  protected record(event: object): this {
    this.applyEvent(event)
    this.pending.push(event)
    return this
  }

  /** Spatie's and EventSauce's name for {@link record}. */
  protected recordThat(event: object): this {
    return this.record(event)
  }

  private applyEvent(event: object): void {
    const method = (this as unknown as Record<string, unknown>)[applyMethodName(eventClassName(event.constructor))]
    if (typeof method === 'function') method.call(this, event)
    this.applied++
  }
}
