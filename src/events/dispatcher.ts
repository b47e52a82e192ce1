import { AsyncLocalStorage } from 'node:async_hooks'
import { afterCommit, inTransaction } from '../database/transactions.ts'
import type { BroadcastGateway, DispatchInterceptor, EventMiddleware, PublishGateway, QueuedListenerGateway } from './dispatch-contracts.ts'
import { DispatchInstrumentation, type Trace } from './dispatch-instrumentation.ts'
import { withEventContext } from './event-context.ts'
import { eventClassName } from './dispatchable.ts'
import { ListenerRegistry, listenerLabel } from './listener-registry.ts'
import { ListenerRunner } from './listener-runner.ts'
import { describeDispatch, nothing, type Dispatch } from './dispatch.ts'
import type { Redactor } from './redaction.ts'
import type {
  DebugLogger,
  EventClass,
  EventKey,
  KnownEventName,
  EventsList,
  ListenerErrorHandler,
  ListenerFor,
  ListenerLike,
  RegisteredListener,
  WildcardListenerLike,
  WildcardPattern,
} from './types.ts'

/** A class whose `subscribe(events)` registers its own listeners, Laravel style. */
export interface SubscriberInstance {
  subscribe(events: Dispatcher): void
}

interface DeferScope {
  readonly only: ReadonlySet<string> | null
  readonly held: Dispatch[]
}

const silentLogger: DebugLogger = { debug() {} }

/**
 * The event dispatcher: Laravel's `Illuminate\Events\Dispatcher` for TypeScript.
 *
 * Listeners run one after another in registration order (wildcards included), each awaited
 * when it returns a promise; `false` stops the rest. Every listener runs even when an earlier
 * one throws; then `dispatch` rejects with one `AggregateError` that names the event and the
 * failed listeners, unless `onError` is set.
 */
export class Dispatcher {
  private readonly registry: ListenerRegistry
  private readonly instrumentation: DispatchInstrumentation = new DispatchInstrumentation((error, event, source) => this.runner.reportFailure(error, event, source))
  private readonly runner: ListenerRunner = new ListenerRunner(this.instrumentation)
  private readonly deferStorage = new AsyncLocalStorage<DeferScope>()
  private deferring = 0
  private interceptor: DispatchInterceptor | null = null
  private queueGateway: QueuedListenerGateway | null = null
  private broadcaster: BroadcastGateway | null = null
  private publisher: PublishGateway | null = null

  constructor(logger: DebugLogger = silentLogger) {
    this.registry = new ListenerRegistry(logger)
  }

  /**
   * @internal The `events.redact` rules, which the message of a dispatch's AggregateError
   * passes: it quotes each listener's error, which may quote the payload, and it is what a web
   * server's error log prints. The listeners' own errors (`errors`) stay as thrown.
   */
  useRedactor(redactor: Redactor | null): void {
    this.runner.redactor = redactor
  }

  /**
   * Registers a listener for an event class, a string name, a wildcard pattern or a list.
   * Registering the same listener for the same event again is a no-op.
   *
   * ```ts
   * events.listen(OrderPlaced, SendReceipt)
   * events.listen('orders.*', (name, event) => audit(name, event))
   * ```
   */
  listen<E extends object>(event: EventClass<E>, listener: ListenerLike<E>): void
  listen<K extends KnownEventName>(event: K, listener: ListenerLike<EventsList[K]>): void
  listen(pattern: WildcardPattern, listener: WildcardListenerLike): void
  listen<const K extends readonly EventKey[]>(events: K, listener: ListenerFor<K[number]>): void
  listen<N extends string>(event: N extends KnownEventName ? never : N, listener: ListenerLike<unknown>): void
  listen(events: EventKey | readonly EventKey[], listener: unknown): void {
    const keys = Array.isArray(events) ? events : [events as EventKey]
    for (const key of keys) this.registry.add(this.registry.nameOf(key), listener)
  }

  /**
   * Registers a subscriber: a class (or instance) with `subscribe(events)`, or a class with
   * `static events` whose methods are routed by name (`handleOrderShipped`). Subscribing the
   * same class twice is a no-op.
   *
   * ```ts
   * class OrderSubscriber { static events = [OrderPlaced]; handleOrderPlaced(event: OrderPlaced) {} }
   * events.subscribe(OrderSubscriber)
   * ```
   */
  subscribe(subscriber: (new () => object) | object): void {
    this.registry.subscribe(subscriber, (instance) => instance.subscribe(this))
  }

  /**
   * Dispatches an event object, or a string event with its payload. Resolves to the listeners'
   * responses (stopping at the first `false`).
   *
   * ```ts
   * await events.dispatch(new OrderPlaced(order))
   * await events.dispatch('task.completed', { id: 7 })
   * ```
   */
  dispatch<E extends object>(event: E): Promise<unknown[]>
  dispatch<K extends KnownEventName>(event: K, payload: EventsList[K]): Promise<unknown[]>
  dispatch<N extends string>(event: N extends KnownEventName ? never : N, payload?: unknown): Promise<unknown[]>
  dispatch(event: object | string, payload?: unknown): Promise<unknown[]> {
    return this.run(describeDispatch(this.registry, event, payload, false, 'dispatch', null)) as Promise<unknown[]>
  }

  /**
   * Dispatches and resolves to the first response that is not null or undefined; the
   * listeners after it do not run. With `pick`, a response counts as what `pick` makes of it.
   *
   * ```ts
   * events.listen('price.quote', () => null)
   * events.listen('price.quote', ({ sku }) => prices.get(sku))
   * const price = await events.until('price.quote', { sku: 'A-1' })
   * const cheap = await events.until(new QuoteRequested('A-1'), (quote) => ((quote as Quote).total < 10 ? quote : null))
   * ```
   */
  until<E extends object>(event: E, pick?: (response: unknown) => unknown): Promise<unknown>
  until<K extends KnownEventName>(event: K, payload: EventsList[K], pick?: (response: unknown) => unknown): Promise<unknown>
  until<N extends string>(event: N extends KnownEventName ? never : N, payload?: unknown, pick?: (response: unknown) => unknown): Promise<unknown>
  until(event: object | string, payload?: unknown, pick?: (response: unknown) => unknown): Promise<unknown> {
    const picking = typeof event === 'string' ? (pick ?? null) : typeof payload === 'function' ? (payload as (response: unknown) => unknown) : null
    return this.run(describeDispatch(this.registry, event, payload, true, 'dispatch', null, picking))
  }

  /** Dispatches only when `condition` is truthy. */
  dispatchIf(condition: unknown, event: object): Promise<unknown[]> {
    return condition ? this.dispatch(event) : Promise.resolve([])
  }

  /** Dispatches only when `condition` is falsy. */
  dispatchUnless(condition: unknown, event: object): Promise<unknown[]> {
    return condition ? Promise.resolve([]) : this.dispatch(event)
  }

  /**
   * Holds the dispatches made while `fn` runs (all, or only the named `events`) and dispatches
   * them in order once it resolves; if `fn` throws they are dropped. Scoped to `fn`'s async
   * context, so a concurrent request's events are not held.
   *
   * ```ts
   * await events.defer(async () => {
   *   await events.dispatch(new OrderPlaced(await orders.create(input))) // held
   * }) // OrderPlaced's listeners run here, or never if create() threw
   * ```
   */
  async defer<T>(fn: () => T | Promise<T>, events?: readonly EventKey[]): Promise<T> {
    const scope: DeferScope = { only: events ? new Set(events.map((key) => this.registry.nameOf(key))) : null, held: [] }
    this.deferring++
    let result: T
    try {
      result = await this.deferStorage.run(scope, fn)
    } finally {
      this.deferring--
    }
    // Past the fake and validation already; listeners registered meanwhile are seen.
    for (const held of scope.held) await this.release(describeDispatch(this.registry, held.key, held.event, false, held.mode, held.only))
    return result
  }

  /**
   * Resolves when every listener started by earlier dispatches has finished: what a test
   * awaits after dispatches it did not await.
   *
   * ```ts
   * void events.dispatch(new OrderPlaced(order))
   * await events.settled()
   * expect(mailbox.sent).toHaveLength(1)
   * ```
   */
  settled(): Promise<void> {
    return this.runner.settled()
  }

  /**
   * Routes listener errors to `handler` instead of rejecting the dispatch; `null` restores
   * the default (reject with an AggregateError once every listener ran).
   *
   * ```ts
   * events.onError((error, event, listener) => logger.error(`${listener.name} failed: ${String(error)}`))
   * ```
   */
  onError(handler: ListenerErrorHandler | null): void {
    this.runner.errorHandler = handler
  }

  /** True when the event (a class or a name) has listeners, wildcards included. */
  hasListeners(event: EventKey): boolean {
    return this.registry.entriesFor(event).length > 0
  }

  /** True when a wildcard listener matches the event name. */
  hasWildcardListeners(event: EventKey): boolean {
    return this.registry.hasWildcard(this.registry.nameOf(event))
  }

  /**
   * The listeners that would run for an event (in order), or, with no argument, every
   * registration keyed by event name or pattern.
   */
  getListeners(event: EventKey): RegisteredListener[]
  getListeners(): Map<string, RegisteredListener[]>
  getListeners(event?: EventKey): RegisteredListener[] | Map<string, RegisteredListener[]> {
    if (event === undefined) return this.registry.all()
    return this.registry.entriesFor(event).map((entry) => entry.view)
  }

  /** @internal The queued listener registered under `name`, which a worker runs for a job. */
  queuedListener(name: string): RegisteredListener | undefined {
    return this.registry.queuedListener(name)
  }

  /**
   * Removes every listener of an event name, class or wildcard pattern, or only `listener`
   * (the class or function registered).
   *
   * ```ts
   * events.forget(OrderPlaced, SendReceipt) // the others stay
   * events.forget('orders.*')
   * ```
   */
  forget(event: EventKey, listener?: unknown): void {
    this.registry.forget(this.registry.nameOf(event), listener)
  }

  /** Removes every listener and subscriber. */
  flush(): void {
    this.registry.flush()
  }

  /** @internal The queue manager installs itself here to receive queued listeners. */
  useQueue(gateway: QueuedListenerGateway | null): void {
    this.queueGateway = gateway
    this.runner.queue = gateway
  }

  /** @internal The broadcast manager installs itself here to receive ShouldBroadcast events. */
  useBroadcaster(gateway: BroadcastGateway | null): void {
    this.broadcaster = gateway
  }

  /** @internal The event bus installs itself here to receive ShouldPublish events. */
  usePublisher(gateway: PublishGateway | null): void {
    this.publisher = gateway
  }

  /** @internal The broadcast manager this dispatcher currently hands broadcast events to. */
  get currentBroadcaster(): BroadcastGateway | null {
    return this.broadcaster
  }

  /** @internal Installs (or, with null, removes) the fake's guard. */
  intercept(interceptor: DispatchInterceptor | null): void {
    this.interceptor = interceptor
  }

  /** @internal The fake this dispatcher currently reports to. */
  get currentInterceptor(): DispatchInterceptor | null {
    return this.interceptor
  }

  /**
   * Runs an event's listeners in this process, without queueing a ShouldQueue event again:
   * what a queue worker calls for a queued event.
   */
  dispatchNow(eventName: string, event: unknown): Promise<unknown> {
    return this.run(describeDispatch(this.registry, typeof event === 'object' && event !== null ? event : eventName, event, false, 'now', null))
  }

  /**
   * Runs an event's listeners again, as `event:replay` does: here (queued ones inline, in order),
   * never broadcast, queued, published or held for a commit; only `options.listener` when given.
   * Inside `withEventContext({ correlationId, replaying: true }, …)` the store and listeners can tell.
   *
   * ```ts
   * await withEventContext({ correlationId: stored.correlationId, replaying: true }, () =>
   *   events.replay('OrderPlaced', event, { listener: 'UpdateSalesReport' }))
   * ```
   */
  replay(eventName: string, event: unknown, options: { readonly listener?: string } = {}): Promise<unknown[]> {
    const classEvent = typeof event === 'object' && event !== null && eventClassName(event.constructor) === eventName
    return this.run(describeDispatch(this.registry, classEvent ? (event as object) : eventName, event, false, 'replay', options.listener ?? null)) as Promise<unknown[]>
  }

  /**
   * Installs instrumentation around every dispatch (see {@link EventMiddleware}); the result
   * removes it. Middleware runs in the order installed.
   *
   * ```ts
   * const remove = events.use({
   *   name: 'AuditTrail',
   *   dispatching: (record) => void audit.push(`${record.name} ${record.id} (correlation ${record.correlationId})`),
   * })
   * ```
   */
  use(middleware: EventMiddleware): () => void {
    return this.instrumentation.use(middleware)
  }

  /** The event class last seen under `name`, if any. */
  eventClass(name: string): Function | undefined {
    return this.registry.eventClass(name)
  }

  /**
   * The one dispatch path, which every public method takes: the fake's guard, the payload's
   * schema, then release. A replay passes neither: it re-runs what was dispatched before.
   */
  private run(dispatch: Dispatch): Promise<unknown> {
    if (this.interceptor !== null && dispatch.mode !== 'replay' && this.interceptor.intercept(dispatch.name, dispatch.event)) return nothing(dispatch)
    const validate = dispatch.resolved?.validate
    if (validate != null && dispatch.mode === 'dispatch') {
      try {
        validate(dispatch.key as object)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return this.release(dispatch)
  }

  /** Held by a `defer` scope, or delivered: under instrumentation when middleware is installed. */
  private release(dispatch: Dispatch): Promise<unknown> {
    if (this.deferring > 0 && this.held(dispatch)) return nothing(dispatch)
    if (!this.instrumentation.active) return this.deliver(dispatch, null)
    return this.instrumentation.around(dispatch.name, dispatch.event, dispatch.mode === 'now', (trace) => this.deliver(dispatch, trace))
  }

  /**
   * Where the event goes: a ShouldDispatchAfterCommit event inside a transaction waits for the
   * commit, a ShouldBroadcast event is broadcast (and its listeners run), a ShouldQueue event is
   * queued whole; any other reaches its listeners.
   */
  private deliver(dispatch: Dispatch, trace: Trace | null): Promise<unknown> {
    const resolved = dispatch.resolved
    if (resolved === null || !resolved.special || dispatch.mode !== 'dispatch') return this.listeners(dispatch, trace)
    if (resolved.published && this.publisher?.claims(dispatch, dispatch.key)) return this.publisher.publishEvent(dispatch.name, dispatch.key as object, this.deliver(dispatch, trace))
    if (resolved.afterCommit && inTransaction()) {
      // Held for the commit (dropped on rollback); commit callbacks run in the committer's async context: put the event's back.
      const later = () => (trace === null ? this.deliver(dispatch, null) : withEventContext(trace.context, () => this.deliver(dispatch, trace)))
      return afterCommit(later).then(() => (dispatch.halt ? undefined : []))
    }
    if (resolved.broadcast && this.broadcaster !== null) return this.broadcastAndListen(dispatch, trace)
    if (resolved.queued && this.queueGateway !== null) return this.pushEvent(dispatch)
    return this.listeners(dispatch, trace)
  }

  /**
   * A ShouldBroadcast event: broadcast it, and run (or queue, for a ShouldQueue event) its
   * listeners as usual. Both always run; a failure of either rejects the dispatch once both
   * are done.
   */
  private broadcastAndListen(dispatch: Dispatch, trace: Trace | null): Promise<unknown> {
    const broadcasting = this.broadcaster!.broadcast(dispatch.name, dispatch.key as object)
    const listening = dispatch.resolved!.queued && this.queueGateway !== null ? this.pushEvent(dispatch) : this.listeners(dispatch, trace)
    return Promise.allSettled([broadcasting, listening]).then(([sent, ran]) => {
      if (sent.status === 'fulfilled') {
        if (ran.status === 'rejected') throw ran.reason
        return ran.value
      }
      if (ran.status === 'fulfilled') throw sent.reason
      throw new AggregateError([sent.reason, ran.reason], `Broadcasting and the listeners of event "${dispatch.name}" failed`)
    })
  }

  /** A ShouldQueue event, queued whole: a worker runs its listeners with `dispatchNow`. */
  private pushEvent(dispatch: Dispatch): Promise<unknown> {
    return this.queueGateway!.pushEvent(dispatch.name, dispatch.key as object).then((id) => (dispatch.halt ? id : [id]))
  }

  /** The event's listeners (a replay's selection), in this process or pushed to the queue. */
  private listeners(dispatch: Dispatch, trace: Trace | null): Promise<unknown> {
    let entries = dispatch.resolved !== null ? dispatch.resolved.entries : this.registry.forName(dispatch.name)
    if (dispatch.only !== null) {
      const only = dispatch.only
      entries = entries.filter((entry) => entry.view.name === only || listenerLabel(entry.view.name, entry.view.method) === only)
    }
    if (entries.length === 0) return nothing(dispatch)
    return this.runner.run(dispatch, entries, trace)
  }

  /** True when a `defer` scope of this async context holds the dispatch. */
  private held(dispatch: Dispatch): boolean {
    const scope = this.deferStorage.getStore()
    if (scope === undefined || (scope.only !== null && !scope.only.has(dispatch.name))) return false
    scope.held.push(dispatch)
    return true
  }
}
