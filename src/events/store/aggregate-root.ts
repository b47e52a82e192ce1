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

/** An aggregate class's `static snapshotEvery` (a whole number from 1), or null for no snapshots. */
function snapshotEveryOf(ctor: Function): number | null {
  const every = (ctor as { snapshotEvery?: unknown }).snapshotEvery
  if (every === undefined || every === null) return null
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1) {
    throw new TypeError(`${ctor.name}.snapshotEvery must be a whole number of events from 1, got ${String(every)}.`)
  }
  return every
}

/**
 * An event-sourced aggregate, as in Spatie's laravel-event-sourcing and EventSauce: its state is
 * the events it recorded. `record(event)` applies an event at once (through the
 * `apply<EventName>(event)` method, if there is one) and keeps it for `persist()`, which appends
 * the recorded events to the stream named by the aggregate's id (failing with ConcurrencyError
 * when someone else appended since it was retrieved) and then dispatches them to their listeners.
 * `retrieve(id)` rebuilds an aggregate by applying its stream's events in order.
 *
 * With `static snapshotEvery = N`, `persist()` also stores a snapshot of the state each time
 * the stream passes a multiple of N events, and `retrieve` starts from the latest snapshot and
 * applies only the events after it. The state is `toSnapshot()` (by default the aggregate's own
 * enumerable properties but `id`), read back by `fromSnapshot(state)` (by default assigned to
 * the properties): override both for state that is not plain data.
 *
 * ```ts
 * class Account extends AggregateRoot {
 *   static snapshotEvery = 100
 *   balance = 0
 *   deposit(amount: number) { return this.record(new MoneyDeposited(amount)) }
 *   applyMoneyDeposited(event: MoneyDeposited) { this.balance += event.amount }
 * }
 * const account = await Account.retrieve('account-1')
 * await account.deposit(10).persist()
 * ```
 */
export abstract class AggregateRoot {
  // ES private fields: not own enumerable properties, so not in the default snapshot.
  #applied = 0
  #persisted = 0
  #pending: object[] = []
  #store: EventStore | null = null

  constructor(readonly id: string) {}

  /**
   * Rebuilds the aggregate with this id from its stream (a new one when there is none): from
   * its latest snapshot on, when the class takes snapshots.
   *
   * ```ts
   * const account = await Account.retrieve('account-1')
   * ```
   */
  static async retrieve<T extends AggregateRoot>(this: new (id: string) => T, id: string, store: EventStore = defaultStore()): Promise<T> {
    const aggregate = new this(id)
    const snapshot = snapshotEveryOf(this) === null ? null : await store.latestSnapshot(id)
    if (snapshot !== null) {
      aggregate.fromSnapshot(snapshot.state as Record<string, unknown>)
      aggregate.#applied = snapshot.version
    }
    for (const { event } of await store.load(id, aggregate.#applied + 1)) aggregate.#applyEvent(event)
    aggregate.#persisted = aggregate.#applied
    aggregate.#store = store
    return aggregate
  }

  /** The version of the last event applied: the stream's, plus the events recorded since. */
  get version(): number {
    return this.#applied
  }

  /** The events recorded since the last `persist()`. */
  get recordedEvents(): readonly object[] {
    return this.#pending
  }

  /**
   * Appends the recorded events to the stream, expecting it at the version it was retrieved at,
   * then dispatches them in order. A ConcurrencyError leaves them recorded: retrieve the
   * aggregate again and retry the command. A listener's failure rejects after they are stored.
   * Events the stream already holds (same `eventId`: a retried command) are neither stored nor
   * dispatched again; this object has applied them, so retrieve the aggregate for its state.
   * A snapshot that fails to save rejects after the events are dispatched.
   *
   * ```ts
   * await (await Account.retrieve('account-1')).deposit(10).persist()
   * ```
   */
  async persist(store: EventStore = this.#store ?? defaultStore()): Promise<this> {
    const pending = this.#pending
    if (pending.length === 0) return this
    const before = this.#persisted
    const result = await store.append(this.id, pending, before)
    const appended = new Set(result.appended.map((row) => row.eventId))
    this.#pending = []
    this.#persisted = result.version
    this.#applied = result.version
    this.#store = store
    // With a retried event among them, this object's state is not the stream's: no snapshot of it.
    const every = snapshotEveryOf(this.constructor)
    const snapshotDue = every !== null && appended.size === pending.length && Math.floor(result.version / every) > Math.floor(before / every)
    const snapshotSaved = snapshotDue
      ? store.saveSnapshot({ streamId: this.id, version: result.version, aggregate: this.constructor.name, state: this.toSnapshot() }).then(
          () => null,
          (error: unknown) => ({ error }),
        )
      : Promise.resolve(null)
    try {
      await store.dispatchStored(pending.filter((event) => appended.has(EventStore.idOf(event))))
    } finally {
      const failed = await snapshotSaved
      if (failed !== null) throw failed.error
    }
    return this
  }

  /**
   * The state a snapshot keeps: by default the aggregate's own enumerable properties but `id`.
   * Override it (with {@link fromSnapshot}) to keep less, or state that is not plain data.
   *
   * ```ts
   * protected override toSnapshot() { return { balance: this.balance, owners: [...this.owners] } }
   * ```
   */
  protected toSnapshot(): Record<string, unknown> {
    const { id: _id, ...state } = this as unknown as Record<string, unknown>
    return state
  }

  /**
   * Restores the state {@link toSnapshot} returned (after a round trip through the store):
   * by default assigns it to the aggregate's properties.
   *
   * ```ts
   * protected override fromSnapshot(state: Record<string, unknown>) { this.balance = Number(state.balance); this.owners = new Set(state.owners as string[]) }
   * ```
   */
  protected fromSnapshot(state: Record<string, unknown>): void {
    Object.assign(this, state)
  }

  /** Applies `event` now and keeps it for `persist()`. */
  protected record(event: object): this {
    this.#applyEvent(event)
    this.#pending.push(event)
    return this
  }

  /** Spatie's and EventSauce's name for {@link record}. */
  protected recordThat(event: object): this {
    return this.record(event)
  }

  #applyEvent(event: object): void {
    const method = (this as unknown as Record<string, unknown>)[applyMethodName(eventClassName(event.constructor))]
    if (typeof method === 'function') method.call(this, event)
    this.#applied++
  }
}
