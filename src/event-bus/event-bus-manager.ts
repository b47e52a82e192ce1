import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { Knex } from 'knex'
import type { EventBusConfig } from '../foundation/event-bus-config.ts'
import type { Logger } from '../foundation/logger.ts'
import { errorMessage } from '../foundation/error-message.ts'
import { UserError } from '../foundation/errors.ts'
import { decodeValue, encodeValue, type EventClassRegistry } from '../foundation/serializer.ts'
import { ulid } from '../foundation/ulid.ts'
import { afterCommit, currentTransaction, inTransaction } from '../database/transactions.ts'
import type { DatabaseManager } from '../database/database-manager.ts'
import { eventClassName } from '../events/dispatchable.ts'
import type { PublishGateway } from '../events/dispatch-contracts.ts'
import { isShouldPublish } from '../events/contracts.ts'
import type { EventClass } from '../events/types.ts'
import type { BusGroup, BusGroupStatus, BusMessage, EventBusDriver } from './event-bus-driver.ts'
import type { PublishInterceptor } from './event-bus-fake.ts'
import { OutboxRelay } from './outbox-relay.ts'
import { OutboxTable } from './outbox-table.ts'
import { Subscriptions, type BusListener, type SubscribeOptions, type Subscription } from './subscriptions.ts'

export interface EventBusDependencies {
  readonly config: EventBusConfig
  readonly logger: Logger
  /** Event classes known by name (the dispatcher's, discovery's), to rebuild received events. */
  readonly eventClass?: (name: string) => Function | undefined
  /** The database, for the outbox; without it events are sent at once (after the commit). */
  readonly database?: () => DatabaseManager
}

export interface WorkOptions {
  /** Abort to stop: the events in hand finish first. */
  readonly signal: AbortSignal
  /** Called once this process's groups exist. */
  readonly onReady?: () => void
}

/**
 * The event bus: publishes ShouldPublish events (and `EventBus.publish`) to the configured
 * driver, through the outbox inside a transaction, and runs this process's subscriptions for
 * what the bus delivers.
 */
export class EventBusManager implements PublishGateway {
  readonly subscriptions = new Subscriptions()
  /** This process's consumer name: host, pid and a random tail. */
  readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  readonly registry: EventClassRegistry
  private current: Promise<EventBusDriver> | null = null
  private readonly outbox: OutboxTable | null
  private readonly relay: OutboxRelay | null
  private interceptor: PublishInterceptor | null = null
  /** The dispatches published already (a ShouldDispatchAfterCommit one is delivered again at its commit). */
  private readonly claimed = new WeakSet<object>()

  constructor(private readonly deps: EventBusDependencies) {
    this.registry = {
      classFor: (name) => this.subscriptions.classFor(name) ?? deps.eventClass?.(name),
      nameOf: (instance) => {
        const ctor = (instance as { constructor?: Function }).constructor
        if (typeof ctor !== 'function') return undefined
        const name = eventClassName(ctor)
        return this.registry.classFor(name) === ctor ? name : undefined
      },
    }
    const { outbox } = deps.config
    const database = deps.database
    const useOutbox = outbox.enabled && database !== undefined && deps.config.driver !== 'local'
    this.outbox = useOutbox ? new OutboxTable(() => database().connection(outbox.connection ?? undefined), outbox.table, () => outbox.connection ?? database().defaultConnection) : null
    this.relay = this.outbox === null ? null : new OutboxRelay({ table: this.outbox, driver: () => this.driver(), logger: deps.logger, maxDelay: outbox.relayInterval })
  }

  get service(): string {
    return this.deps.config.service
  }

  get driverName(): string {
    return this.deps.config.driver
  }

  /**
   * Runs `listener` for every published `event` this service receives: in one of its processes,
   * or with `{ fanout: true }` in each. The result removes the subscription.
   *
   * ```ts
   * bus.subscribe(OrderPlaced, async (event) => reserveStock(event.orderId))
   * bus.subscribe(PricesChanged, () => cache.clear(), { fanout: true })
   * ```
   */
  subscribe<E extends object>(event: EventClass<E>, listener: BusListener<E>, options?: SubscribeOptions): () => void
  subscribe(event: string, listener: BusListener<unknown>, options?: SubscribeOptions): () => void
  subscribe(event: Function | string, listener: BusListener<never>, options: SubscribeOptions = {}): () => void {
    return this.subscriptions.add(event, listener, options)
  }

  /**
   * Publishes an event to the bus alone (no local listeners run): inside `DB.transaction` it is
   * written to the outbox and sent after the commit. Resolves to its bus id.
   *
   * ```ts
   * const id = await bus.publish(new OrderPlaced(1))
   * await bus.publish('stock.low', { sku: 'A-1' })
   * ```
   */
  publish(event: object): Promise<string>
  publish(name: string, payload: unknown): Promise<string>
  publish(event: object | string, payload?: unknown): Promise<string> {
    if (typeof event === 'string') return this.send(event, payload)
    return this.send(eventClassName(event.constructor), event)
  }

  /** @internal What the dispatcher asks of each dispatch: a ShouldPublish event, not published yet. */
  claims(dispatch: object, event: object | string): boolean {
    if (!isShouldPublish(event) || this.claimed.has(dispatch)) return false
    this.claimed.add(dispatch)
    return true
  }

  /** @internal What the dispatcher calls for a ShouldPublish event: publish it while its listeners run here. */
  async publishEvent(eventName: string, event: object, local: Promise<unknown>): Promise<unknown> {
    const [sent, ran] = await Promise.allSettled([this.send(eventName, event), local])
    if (sent.status === 'fulfilled') {
      if (ran.status === 'rejected') throw ran.reason
      return ran.value
    }
    if (ran.status === 'fulfilled') throw sent.reason
    throw new AggregateError([sent.reason, ran.reason], `Publishing and the listeners of event "${eventName}" failed`)
  }

  /**
   * Consumes this process's subscriptions until `options.signal` aborts: what
   * `artisan event-bus:work` runs. The outbox relay runs alongside.
   */
  async work(options: WorkOptions): Promise<void> {
    this.relay?.kick()
    const interval = this.relay === null ? null : setInterval(() => this.relay!.kick(), this.deps.config.outbox.relayInterval)
    interval?.unref()
    try {
      const groups = this.groups()
      if (groups.length === 0) {
        // Nothing to consume: relay the outbox until stopped.
        options.onReady?.()
        if (!options.signal.aborted) await new Promise((resolve) => options.signal.addEventListener('abort', resolve, { once: true }))
        return
      }
      await (await this.driver()).consume({ groups, consumer: this.consumer, signal: options.signal, ...(options.onReady && { onReady: options.onReady }) })
    } finally {
      if (interval !== null) clearInterval(interval)
    }
  }

  /** Sends what waits in the outbox now; resolves once it is empty or the bus is down. */
  async relayOutbox(): Promise<void> {
    await this.relay?.drain()
  }

  /** True when events published inside a transaction go through the outbox table. */
  get hasOutbox(): boolean {
    return this.outbox !== null
  }

  /** Rows waiting in the outbox (0 without one). */
  async outboxSize(): Promise<number> {
    return this.outbox === null ? 0 : this.outbox.count()
  }

  /** The streams and groups on the bus, with pending and lag. */
  async status(): Promise<BusGroupStatus[]> {
    return (await this.driver()).status()
  }

  async close(): Promise<void> {
    const steps: Array<() => Promise<void>> = [async () => this.relay?.close(), async () => (await this.current)?.close()]
    for (const step of steps) {
      try {
        await step()
      } catch (error) {
        this.deps.logger.warn(`Event bus: closing failed: ${errorMessage(error)}`)
      }
    }
  }

  /** @internal Installs (or, with null, removes) the fake. */
  intercept(interceptor: PublishInterceptor | null): void {
    this.interceptor = interceptor
  }

  /** @internal The fake this bus currently records to. */
  get currentInterceptor(): PublishInterceptor | null {
    return this.interceptor
  }

  /** The driver, made (and its engine imported) on first use. */
  driver(): Promise<EventBusDriver> {
    this.current ??= this.open()
    return this.current
  }

  private async send(name: string, event: unknown): Promise<string> {
    if (this.interceptor !== null) {
      this.interceptor.record({ name, event })
      return ulid()
    }
    const message: BusMessage = { id: ulid(), name, payload: JSON.stringify(encodeValue(event, this.encoder(name, event))), publishedAt: Date.now(), source: this.service }
    if (!inTransaction()) {
      await this.sendNow(message)
      return message.id
    }
    const knex = this.outbox === null ? undefined : await this.outbox.connection()
    const trx = knex === undefined ? undefined : currentTransaction<Knex.Transaction>(knex)
    if (trx !== undefined) {
      await this.outbox!.insert(trx, message)
      await afterCommit(() => this.relay!.kick())
    } else {
      // A transaction on another connection, or no outbox: send once it commits, never on rollback.
      await afterCommit(() => this.sendNow(message))
    }
    return message.id
  }

  /** Sends one message; when the bus is down and there is an outbox, it waits there instead. */
  private async sendNow(message: BusMessage): Promise<void> {
    try {
      await (await this.driver()).publish([message])
    } catch (error) {
      if (this.outbox === null) throw error
      await this.outbox.insert(await this.outbox.connection(), message)
      this.deps.logger.warn(`Event bus: could not publish "${message.name}" (${errorMessage(error)}); it waits in the outbox.`)
      this.relay!.kick()
    }
  }

  /**
   * The registry for encoding one event: its own class is known by its name even when this
   * process never dispatched or subscribed to it, so the receivers (who subscribed with the
   * class) rebuild an instance.
   */
  private encoder(name: string, event: unknown): EventClassRegistry {
    const ctor = typeof event === 'object' && event !== null ? event.constructor : undefined
    if (ctor === undefined || ctor === Object) return this.registry
    return { classFor: this.registry.classFor, nameOf: (instance) => (instance.constructor === ctor ? name : this.registry.nameOf(instance)) }
  }

  private groups(): BusGroup[] {
    const groups: BusGroup[] = []
    const shared = this.subscriptions.names(false)
    if (shared.length > 0) groups.push({ group: this.service, events: shared, transient: false, handle: (message) => this.receive(message, false) })
    const fanout = this.subscriptions.names(true)
    if (fanout.length > 0) {
      groups.push({ group: `${this.service}:fanout:${this.consumer}`, events: fanout, transient: true, handle: (message) => this.receive(message, true) })
    }
    return groups
  }

  /** Runs the subscriptions of one delivered event; rejects (leaving it to be delivered again) if any failed. */
  private async receive(message: BusMessage, fanout: boolean): Promise<void> {
    let event: unknown
    try {
      event = decodeValue(JSON.parse(message.payload), this.registry)
    } catch (error) {
      // Delivering it again would fail the same way: report it and let it go.
      this.deps.logger.error(`Event bus: "${message.name}" (${message.id}) from ${message.source} cannot be decoded, skipped: ${errorMessage(error)}`)
      return
    }
    const delivery = { id: message.id, name: message.name, publishedAt: new Date(message.publishedAt), source: message.source }
    const errors: unknown[] = []
    for (const subscription of this.subscriptions.of(message.name, fanout)) {
      try {
        await (subscription as Subscription).listener(event as never, delivery)
      } catch (error) {
        errors.push(error)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} subscription(s) of "${message.name}" failed: ${errors.map(errorMessage).join('; ')}`)
  }

  private async open(): Promise<EventBusDriver> {
    const { config, logger } = this.deps
    if (config.driver === 'local') {
      const { LocalDriver } = await import('./drivers/local-driver.ts')
      return new LocalDriver({ groups: () => this.groups(), logger, remember: 10_000 })
    }
    if (config.driver !== 'redis') throw new UserError(`Unknown event bus driver "${String(config.driver)}" (config/event-bus.ts): use "local" or "redis".`)
    const { RedisStreamsDriver } = await import('./drivers/redis-streams-driver.ts')
    return new RedisStreamsDriver({ ...config.redis, dedupTtl: config.dedupTtl, logger })
  }
}
