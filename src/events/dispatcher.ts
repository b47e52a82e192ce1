import { AsyncLocalStorage } from 'node:async_hooks'
import { afterCommit, inTransaction } from '../database/transactions.ts'
import { isThenable } from '../foundation/promises.ts'
import { ulid } from '../foundation/ulid.ts'
import { currentEventContext, withEventContext, type EventContext } from './event-context.ts'
import { FRAMEWORK_CLASS, isShouldBroadcast, isShouldDispatchAfterCommit, isShouldQueue } from './contracts.ts'
import { Dispatchable, eventClassName } from './dispatchable.ts'
import { routedMethodName } from './listener.ts'
import type { Redactor } from './redaction.ts'
import { isWildcard, wildcardMatcher } from './wildcard.ts'
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
import { errorMessage } from '../foundation/error-message.ts'

/** What `Event.fake()` installs: one guard at the top of the single dispatch path. */
export interface DispatchInterceptor {
  /** Records the dispatch; returns true when the event is faked (listeners must not run). */
  intercept(eventName: string, event: unknown): boolean
}

/**
 * Where queued listeners go: the queue manager installs one. Without it a queued listener
 * runs in the dispatch, as on the `sync` connection.
 */
export interface QueuedListenerGateway {
  push(listener: RegisteredListener, eventName: string, event: unknown): Promise<unknown>
  /** Queues a whole ShouldQueue event; a worker dispatches it with `dispatchNow`. */
  pushEvent(eventName: string, event: object): Promise<unknown>
}

/**
 * Where ShouldBroadcast events go: the broadcast manager installs one. Without it a broadcast
 * event only reaches its listeners.
 */
export interface BroadcastGateway {
  /** Broadcasts the event: queued for ShouldBroadcast, at once for ShouldBroadcastNow. */
  broadcast(eventName: string, event: object): Promise<unknown>
}

/** What instrumentation (the event store, metrics, tracing) sees of one dispatch. */
export interface DispatchRecord {
  /** A ULID, new for each dispatch. */
  readonly id: string
  readonly name: string
  /** The event object, or the payload of a string event. */
  readonly event: unknown
  readonly correlationId: string
  readonly causationId: string | null
  readonly occurredAt: Date
  /** True while `event:replay` re-dispatches a stored event. */
  readonly replaying: boolean
  /**
   * True when a worker runs the listeners of a queued ShouldQueue event: it was dispatched
   * (and seen by the instrumentation) in the process that queued it, under this same id.
   */
  readonly redispatch: boolean
}

/**
 * Instrumentation around dispatches, installed with `events.use(...)`: the event store,
 * metrics, tracing. Without any, the dispatcher takes its plain path and pays nothing.
 */
export interface EventMiddleware {
  /** Names the middleware in errors. */
  readonly name: string
  /**
   * Runs before anything happens to the event: its listeners, queueing, broadcasting, holding
   * it for a commit. What it throws follows the dispatcher's error policy: with `onError` set
   * the handler gets it and the dispatch goes on; otherwise the dispatch rejects and nothing runs.
   */
  dispatching?(record: DispatchRecord): void | Promise<void>
  /** The context the event's listeners run in (e.g. with the tracing span in `trace`). */
  context?(record: DispatchRecord, context: EventContext): EventContext
  /** Around each listener run in this process: must call `run()` and return what it returns. */
  listener?(record: DispatchRecord, listener: RegisteredListener, run: () => unknown): unknown
  /** Once the dispatch has settled; `error` is its rejection, or null. */
  dispatched?(record: DispatchRecord, error: unknown): void
}

/** A dispatch under instrumentation: its record and the context its listeners run in. */
interface Instrumented {
  readonly record: DispatchRecord
  readonly context: EventContext
}

/** A payload schema: zod's `safeParse` (or anything shaped like it). */
interface PayloadSchema {
  safeParse(data: unknown): { success: boolean; error?: { issues?: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } }
}

/** An event's payload failed its class's `static schema`: thrown before any listener runs. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError'

  constructor(
    readonly eventName: string,
    readonly issues: ReadonlyArray<{ readonly path: string; readonly message: string }>,
  ) {
    super(`Event "${eventName}" has an invalid payload: ${issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ')}`)
  }
}

/** An event's own data, as its schema sees it: enumerable own properties. */
function schemaData(event: object): Record<string, unknown> {
  return { ...event }
}

/** A class whose `subscribe(events)` registers its own listeners, Laravel style. */
export interface SubscriberInstance {
  subscribe(events: Dispatcher): void
}

type AnyFunction = (...args: never[]) => unknown
type Invoker = (eventName: string, event: unknown) => unknown

/** A registered listener plus what the hot path needs to call it. */
interface ListenerEntry extends RegisteredListener {
  readonly seq: number
  readonly invoke: Invoker
  /** Runs the listener here and now, even a queued one: what a replay calls. */
  readonly direct: Invoker
}

interface WildcardEntry {
  readonly entry: ListenerEntry
  readonly matches: (eventName: string) => boolean
}

/** Listeners resolved for one event class: built once, dropped on listen/forget/flush. */
interface ResolvedClass {
  readonly name: string
  readonly entries: readonly ListenerEntry[]
  /** A ShouldQueue event: dispatched through the queue as a whole. */
  readonly queued: boolean
  /** A ShouldDispatchAfterCommit event: held until the surrounding transaction commits. */
  readonly afterCommit: boolean
  /** A ShouldBroadcast (or ShouldBroadcastNow) event: broadcast as well as dispatched. */
  readonly broadcast: boolean
  /** The class's `static schema` check, or null without one. */
  readonly validate: ((event: object) => void) | null
  /** Any of the four: the one flag the hot path reads. */
  readonly special: boolean
}

interface DeferredDispatch {
  readonly key: string | object
  readonly payload: unknown
}

interface DeferScope {
  readonly only: ReadonlySet<string> | null
  readonly buffer: DeferredDispatch[]
}

const EMPTY: readonly ListenerEntry[] = Object.freeze([])

const silentLogger: DebugLogger = { debug() {} }

function displayName(listener: unknown): string {
  if (typeof listener === 'function' && listener.name) return listener.name
  return 'Closure'
}

/** `SendReceipt`, or `OrderSubscriber@handleOrderShipped` for a routed method. */
function label(name: string, method: string | null): string {
  return method && method !== 'handle' ? `${name}@${method}` : name
}

function displayNamed(listener: unknown): boolean {
  return typeof listener === 'function' && listener.name !== ''
}

function isClass(value: unknown): value is new () => object {
  return (
    typeof value === 'function' &&
    /^class[\s{]/.test(Function.prototype.toString.call(value))
  )
}

/**
 * The event dispatcher: Laravel's `Illuminate\Events\Dispatcher` for TypeScript.
 *
 * Listeners run one after another in registration order (wildcards included), each awaited
 * when it returns a promise; `false` stops the rest. Every listener runs even when an earlier
 * one throws; then `dispatch` rejects with one `AggregateError` that names the event and the
 * failed listeners, unless `onError` is set.
 */
export class Dispatcher {
  private readonly listeners = new Map<string, ListenerEntry[]>()
  private readonly wildcards: WildcardEntry[] = []
  private readonly classCache = new Map<Function, ResolvedClass>()
  private readonly nameCache = new Map<string, readonly ListenerEntry[]>()
  private readonly subscribed = new Set<unknown>()
  /** Event classes seen by name, so a worker can rebuild queued events. */
  private readonly classes = new Map<string, Function>()
  private readonly deferStorage = new AsyncLocalStorage<DeferScope>()
  private seq = 0
  /** The subscriber whose subscribe() is running: it names the closures it registers. */
  private subscribing: string | null = null
  private deferring = 0
  private inflight = 0
  private settledWaiters: Array<() => void> = []
  private errorHandler: ListenerErrorHandler | null = null
  private interceptor: DispatchInterceptor | null = null
  private queueGateway: QueuedListenerGateway | null = null
  private broadcaster: BroadcastGateway | null = null
  private middleware: readonly EventMiddleware[] = []
  private redactor: Redactor | null = null

  constructor(private readonly logger: DebugLogger = silentLogger) {}

  /**
   * @internal The `events.redact` rules, which the message of a dispatch's AggregateError
   * passes: it quotes each listener's error, which may quote the payload, and it is what a web
   * server's error log prints. The listeners' own errors (`errors`) stay as thrown.
   */
  useRedactor(redactor: Redactor | null): void {
    this.redactor = redactor
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
    for (const key of keys) this.addListener(this.keyName(key), listener)
  }

  /**
   * Registers a subscriber: a class (or instance) with `subscribe(events)`, or a class with
   * `static events` whose methods are routed by name (`handleOrderShipped`). Subscribing the
   * same class twice is a no-op.
   */
  subscribe(subscriber: (new () => object) | object): void {
    const ctor = typeof subscriber === 'function' ? subscriber : subscriber.constructor
    if (this.subscribed.has(ctor)) {
      this.logger.debug(`Subscriber "${displayName(ctor)}" is already subscribed; ignored.`)
      return
    }
    const instance = typeof subscriber === 'function' ? new (subscriber as new () => object)() : subscriber
    const declared = (ctor as { events?: readonly EventKey[] }).events
    if (typeof (instance as Partial<SubscriberInstance>).subscribe === 'function') {
      this.subscribing = displayName(ctor)
      try {
        ;(instance as SubscriberInstance).subscribe(this)
      } finally {
        this.subscribing = null
      }
    } else if (Array.isArray(declared)) {
      for (const key of declared) {
        const name = this.keyName(key)
        this.register(name, ctor, this.routedMethod(instance, ctor, name), instance)
      }
    } else {
      throw new TypeError(
        `Subscriber "${displayName(ctor)}" has neither a subscribe(events) method nor static events.`,
      )
    }
    this.subscribed.add(ctor)
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
    return this.dispatchEvent(event, payload, false) as Promise<unknown[]>
  }

  /** Dispatches and resolves to the first response that is not null or undefined. */
  until<E extends object>(event: E): Promise<unknown>
  until<K extends KnownEventName>(event: K, payload: EventsList[K]): Promise<unknown>
  until<N extends string>(event: N extends KnownEventName ? never : N, payload?: unknown): Promise<unknown>
  until(event: object | string, payload?: unknown): Promise<unknown> {
    return this.dispatchEvent(event, payload, true)
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
   */
  async defer<T>(fn: () => T | Promise<T>, events?: readonly EventKey[]): Promise<T> {
    const scope: DeferScope = {
      only: events ? new Set(events.map((key) => this.keyName(key))) : null,
      buffer: [],
    }
    this.deferring++
    let result: T
    try {
      result = await this.deferStorage.run(scope, fn)
    } finally {
      this.deferring--
    }
    for (const { key, payload } of scope.buffer) await this.dispatchEvent(key, payload, false)
    return result
  }

  /** Resolves when every listener started by earlier dispatches has finished. */
  settled(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve()
    return new Promise((resolve) => this.settledWaiters.push(resolve))
  }

  /**
   * Routes listener errors to `handler` instead of rejecting the dispatch; `null` restores
   * the default (reject with an AggregateError once every listener ran).
   */
  onError(handler: ListenerErrorHandler | null): void {
    this.errorHandler = handler
  }

  /** True when the event (a class or a name) has listeners, wildcards included. */
  hasListeners(event: EventKey): boolean {
    return this.entriesFor(event).length > 0
  }

  /** True when a wildcard listener matches the event name. */
  hasWildcardListeners(event: EventKey): boolean {
    const name = this.keyName(event)
    return this.wildcards.some((wildcard) => wildcard.matches(name))
  }

  /**
   * The listeners that would run for an event (in order), or, with no argument, every
   * registration keyed by event name or pattern.
   */
  getListeners(event: EventKey): RegisteredListener[]
  getListeners(): Map<string, RegisteredListener[]>
  getListeners(event?: EventKey): RegisteredListener[] | Map<string, RegisteredListener[]> {
    if (event === undefined) {
      const all = new Map<string, RegisteredListener[]>()
      for (const [name, entries] of this.listeners) all.set(name, entries.map(publicView))
      for (const { entry } of this.wildcards) {
        all.set(entry.event, [...(all.get(entry.event) ?? []), publicView(entry)])
      }
      return all
    }
    return this.entriesFor(event).map(publicView)
  }

  /** Removes every listener of an event name, class or wildcard pattern. */
  forget(event: EventKey): void {
    const name = this.keyName(event)
    this.listeners.delete(name)
    for (let i = this.wildcards.length - 1; i >= 0; i--) {
      if (this.wildcards[i]!.entry.event === name) this.wildcards.splice(i, 1)
    }
    this.invalidate()
  }

  /** Removes every listener and subscriber. */
  flush(): void {
    this.listeners.clear()
    this.wildcards.length = 0
    this.subscribed.clear()
    this.invalidate()
  }

  /** @internal The queue manager installs itself here to receive queued listeners. */
  useQueue(gateway: QueuedListenerGateway | null): void {
    this.queueGateway = gateway
  }

  /** @internal The broadcast manager installs itself here to receive ShouldBroadcast events. */
  useBroadcaster(gateway: BroadcastGateway | null): void {
    this.broadcaster = gateway
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
    return this.dispatchEvent(typeof event === 'object' && event !== null ? event : eventName, event, false, true)
  }

  /**
   * Runs an event's listeners again, as `artisan event:replay` does with stored events: in this
   * process (queued listeners too, inline, in order), without broadcasting or queueing the event
   * or holding it for a commit; only the listener named `options.listener` (`SendReceipt`, or
   * `OrderSubscriber@handleOrderPlaced`) when given. Run it inside
   * `withEventContext({ correlationId, replaying: true }, ...)` so that the instrumentation (the
   * event store) and the listeners can tell a replay.
   *
   * ```ts
   * await withEventContext({ correlationId: stored.correlationId, replaying: true }, () =>
   *   events.replay('OrderPlaced', event, { listener: 'UpdateSalesReport' }))
   * ```
   */
  replay(eventName: string, event: unknown, options: { readonly listener?: string } = {}): Promise<unknown[]> {
    const classEvent = typeof event === 'object' && event !== null && eventClassName(event.constructor) === eventName
    const key = classEvent ? (event as object) : eventName
    const only = options.listener
    const entries = this.entriesOf(key)
      .filter((entry) => only === undefined || entry.name === only || label(entry.name, entry.method) === only)
      .map((entry) => ({ ...entry, invoke: entry.direct }))
    if (this.middleware.length > 0) return this.instrumented(eventName, event, null, key, event, false, false, entries) as Promise<unknown[]>
    return this.dispatchListeners(eventName, event, entries, key, event, false, null) as Promise<unknown[]>
  }

  /**
   * Installs instrumentation around every dispatch (see {@link EventMiddleware}); the result
   * removes it. Middleware runs in the order installed.
   */
  use(middleware: EventMiddleware): () => void {
    this.middleware = [...this.middleware, middleware]
    return () => {
      this.middleware = this.middleware.filter((installed) => installed !== middleware)
    }
  }

  /** The event class last seen under `name`, if any. */
  eventClass(name: string): Function | undefined {
    return this.classes.get(name)
  }

  /** The single dispatch path: every public method comes through here. */
  private dispatchEvent(event: object | string, payload: unknown, halt: boolean, now = false): Promise<unknown> {
    let name: string
    let subject: unknown
    let entries: readonly ListenerEntry[]
    if (typeof event === 'string') {
      name = event
      subject = payload
      entries = this.nameCache.get(name) ?? this.entriesForName(name)
    } else {
      const resolved = this.classCache.get(event.constructor) ?? this.resolveClass(event.constructor)
      name = resolved.name
      subject = event
      entries = resolved.entries
      if (resolved.special && !now) {
        if (this.interceptor !== null && this.interceptor.intercept(name, subject)) {
          return Promise.resolve(halt ? undefined : [])
        }
        if (resolved.validate !== null) {
          try {
            resolved.validate(event)
          } catch (error) {
            return Promise.reject(error)
          }
        }
        if (this.middleware.length > 0) return this.instrumented(name, subject, resolved, event, payload, halt, now)
        const special = this.dispatchSpecial(resolved, event, payload, halt, null)
        if (special !== null) return special
        return this.dispatchListeners(name, subject, entries, event, payload, halt, null)
      }
    }
    if (this.interceptor !== null && this.interceptor.intercept(name, subject)) {
      return Promise.resolve(halt ? undefined : [])
    }
    if (this.middleware.length > 0) return this.instrumented(name, subject, null, event, payload, halt, now)
    return this.dispatchListeners(name, subject, entries, event, payload, halt, null)
  }

  /**
   * The dispatch path with middleware installed: a record (id, correlation, causation), the
   * `dispatching` hooks (the store writes here, inside the caller's transaction), then the
   * usual path with the listeners in the event's context, then the `dispatched` hooks.
   */
  private async instrumented(
    name: string,
    subject: unknown,
    resolved: ResolvedClass | null,
    event: object | string,
    payload: unknown,
    halt: boolean,
    now: boolean,
    /** The listeners to run instead of the event's (a replay's selection). */
    listeners?: readonly ListenerEntry[],
  ): Promise<unknown> {
    // A deferred dispatch is seen by the middleware once, when `defer` releases it.
    if (this.deferring > 0 && this.deferred(name, event, payload)) return halt ? undefined : []
    const middleware = this.middleware
    const parent = currentEventContext()
    // A worker running a queued event's listeners restored the context the event was queued in.
    const redispatch = now && parent !== undefined && parent.eventId !== null
    const id = redispatch ? parent.eventId! : ulid()
    const record: DispatchRecord = {
      id,
      name,
      event: subject,
      correlationId: redispatch ? parent.correlationId : (parent?.correlationId ?? id),
      causationId: redispatch ? parent.causationId : (parent?.eventId ?? null),
      occurredAt: new Date(),
      replaying: parent?.replaying ?? false,
      redispatch,
    }
    let context: EventContext = { eventId: id, correlationId: record.correlationId, causationId: record.causationId, replaying: record.replaying, trace: parent?.trace }
    for (const installed of middleware) {
      if (installed.context !== undefined) context = installed.context(record, context)
    }
    const instrumented: Instrumented = { record, context }
    let error: unknown = null
    try {
      for (const installed of middleware) {
        if (installed.dispatching === undefined) continue
        try {
          await installed.dispatching(record)
        } catch (failure) {
          const unhandled = await this.handleListenerError(failure, subject, middlewareEntry(installed, name))
          if (unhandled !== undefined) throw unhandled
        }
      }
      return await withEventContext(context, () => {
        if (resolved !== null) {
          const special = this.dispatchSpecial(resolved, event as object, payload, halt, instrumented)
          if (special !== null) return special
        }
        return this.dispatchListeners(name, subject, listeners ?? this.entriesOf(event), event, payload, halt, instrumented)
      })
    } catch (failure) {
      error = failure
      throw failure
    } finally {
      for (const installed of middleware) installed.dispatched?.(record, error)
    }
  }

  /** After the fake's guard: defer, then run the listeners. */
  private dispatchListeners(
    name: string,
    subject: unknown,
    entries: readonly ListenerEntry[],
    event: object | string,
    payload: unknown,
    halt: boolean,
    instrumented: Instrumented | null,
  ): Promise<unknown> {
    if (this.deferring > 0 && this.deferred(name, event, payload)) return Promise.resolve(halt ? undefined : [])
    if (entries.length === 0) return Promise.resolve(halt ? undefined : [])
    return this.invokeListeners(name, subject, entries, halt, instrumented)
  }

  /** True when a `defer` scope of this async context holds the dispatch (it is buffered). */
  private deferred(name: string, event: object | string, payload: unknown): boolean {
    const scope = this.deferStorage.getStore()
    if (scope === undefined || (scope.only !== null && !scope.only.has(name))) return false
    scope.buffer.push({ key: event, payload })
    return true
  }

  /**
   * ShouldDispatchAfterCommit, ShouldBroadcast and ShouldQueue events: held for the commit,
   * broadcast, or queued whole.
   */
  private dispatchSpecial(resolved: ResolvedClass, event: object, payload: unknown, halt: boolean, instrumented: Instrumented | null): Promise<unknown> | null {
    if (resolved.afterCommit && inTransaction()) {
      // Held for the commit (dropped on rollback); the fake already saw it.
      const run = () =>
        this.dispatchSpecial(resolved, event, payload, halt, instrumented) ??
        this.dispatchListeners(resolved.name, event, resolved.entries, event, payload, halt, instrumented)
      // Commit callbacks run in the committer's async context: put the event's back.
      const later = instrumented === null ? run : () => withEventContext(instrumented.context, run)
      return afterCommit(later).then(() => (halt ? undefined : []))
    }
    if (resolved.broadcast && this.broadcaster !== null) return this.dispatchBroadcast(resolved, event, payload, halt, instrumented)
    if (resolved.queued && this.queueGateway !== null) {
      return this.queueGateway.pushEvent(resolved.name, event).then((id) => (halt ? id : [id]))
    }
    return null
  }

  /**
   * A ShouldBroadcast event: broadcast it, and run (or queue, for a ShouldQueue event) its
   * listeners as usual. Both always run; a failure of either rejects the dispatch once both
   * are done. A worker's `dispatchNow` of a queued event does not come here: it was broadcast
   * when it was dispatched.
   */
  private dispatchBroadcast(resolved: ResolvedClass, event: object, payload: unknown, halt: boolean, instrumented: Instrumented | null): Promise<unknown> {
    if (this.deferring > 0 && this.deferred(resolved.name, event, payload)) return Promise.resolve(halt ? undefined : [])
    const broadcasting = this.broadcaster!.broadcast(resolved.name, event)
    const listening =
      resolved.queued && this.queueGateway !== null
        ? this.queueGateway.pushEvent(resolved.name, event).then((id) => (halt ? id : [id]))
        : this.dispatchListeners(resolved.name, event, resolved.entries, event, payload, halt, instrumented)
    return Promise.allSettled([broadcasting, listening]).then(([sent, ran]) => {
      if (sent.status === 'fulfilled') {
        if (ran.status === 'rejected') throw ran.reason
        return ran.value
      }
      if (ran.status === 'fulfilled') throw sent.reason
      throw new AggregateError([sent.reason, ran.reason], `Broadcasting and the listeners of event "${resolved.name}" failed`)
    })
  }

  private async invokeListeners(
    name: string,
    event: unknown,
    entries: readonly ListenerEntry[],
    halt: boolean,
    instrumented: Instrumented | null,
  ): Promise<unknown> {
    this.inflight++
    const responses: unknown[] = []
    let failures: Array<{ entry: ListenerEntry; error: unknown }> | null = null
    let halted: unknown = undefined
    try {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!
        const pushing = halt ? 1 : this.queuedRun(entries, i)
        if (pushing > 1) {
          // Queued listeners side by side are pushed together: a database queue writes them in one INSERT.
          const run = entries.slice(i, i + pushing)
          const pushes = run.map((queued) => settle(() => (instrumented === null ? queued.invoke(name, event) : this.invokeInstrumented(instrumented, queued, name, event))))
          for (let k = 0; k < run.length; k++) {
            const pushed = await pushes[k]!
            if (pushed.ok) {
              responses.push(pushed.value)
              continue
            }
            const unhandled = await this.handleListenerError(pushed.error, event, run[k]!)
            if (unhandled !== undefined) (failures ??= []).push({ entry: run[k]!, error: unhandled })
          }
          i += pushing - 1
          continue
        }
        let response: unknown
        try {
          response = instrumented === null ? entry.invoke(name, event) : this.invokeInstrumented(instrumented, entry, name, event)
          if (isThenable(response)) response = await response
        } catch (error) {
          const unhandled = await this.handleListenerError(error, event, entry)
          if (unhandled !== undefined) (failures ??= []).push({ entry, error: unhandled })
          continue
        }
        if (halt && response !== undefined && response !== null) {
          halted = response
          break
        }
        if (response === false) break
        responses.push(response)
      }
    } finally {
      if (--this.inflight === 0) this.notifySettled()
    }
    if (failures !== null) throw this.aggregate(name, failures, event)
    return halt ? halted : responses
  }

  /** How many listeners from `start` on go to the queue (none runs here, so they can be pushed together). */
  private queuedRun(entries: readonly ListenerEntry[], start: number): number {
    if (this.queueGateway === null) return 0
    let end = start
    while (end < entries.length && entries[end]!.queued) end++
    return end - start
  }

  /** One listener in its event's context, wrapped by the middleware's `listener` hooks, first installed outermost. */
  private invokeInstrumented(instrumented: Instrumented, entry: ListenerEntry, name: string, event: unknown): unknown {
    const middleware = this.middleware
    let run = () => entry.invoke(name, event)
    for (let i = middleware.length - 1; i >= 0; i--) {
      const hook = middleware[i]!.listener
      if (hook === undefined) continue
      const inner = run
      run = () => hook.call(middleware[i], instrumented.record, publicView(entry), inner)
    }
    return withEventContext(instrumented.context, run)
  }

  /** Returns the error to report, or undefined when the `onError` handler took it. */
  private async handleListenerError(
    error: unknown,
    event: unknown,
    entry: ListenerEntry,
  ): Promise<unknown> {
    if (this.errorHandler === null) return error
    try {
      await this.errorHandler(error, event, publicView(entry))
      return undefined
    } catch (handlerError) {
      return handlerError
    }
  }

  private aggregate(name: string, failures: Array<{ entry: ListenerEntry; error: unknown }>, event: unknown): AggregateError {
    const list = failures
      .map(({ entry, error }) => `${label(entry.name, entry.method)} (${errorMessage(error)})`)
      .join(', ')
    const count = failures.length === 1 ? '1 listener' : `${failures.length} listeners`
    const message = `${count} failed for event "${name}": ${list}`
    return new AggregateError(
      failures.map((failure) => failure.error),
      this.redactor === null ? message : this.redactor.redactText(message, event),
    )
  }

  private notifySettled(): void {
    const waiters = this.settledWaiters
    this.settledWaiters = []
    for (const resolve of waiters) resolve()
  }

  private keyName(key: EventKey): string {
    if (typeof key === 'string') return key
    if (typeof key === 'function') {
      const name = eventClassName(key)
      this.classes.set(name, key)
      return name
    }
    throw new TypeError(`Cannot listen to ${String(key)}: give an event class, a name or a pattern.`)
  }

  private addListener(name: string, listener: unknown): void {
    if (typeof listener !== 'function') {
      throw new TypeError(`Listener for "${name}" must be a function or a class, got ${typeof listener}.`)
    }
    if (!isClass(listener)) {
      this.register(name, listener, null, null)
      return
    }
    const proto = listener.prototype as Record<string, unknown>
    if (typeof proto.handle === 'function') {
      this.register(name, listener, 'handle', null)
    } else if (isWildcard(name)) {
      throw new TypeError(`Listener "${listener.name}" for "${name}" needs a handle(eventName, event) method.`)
    } else {
      this.register(name, listener, this.routedMethod(proto, listener, name), null)
    }
  }

  private routedMethod(target: object, ctor: Function, name: string): string {
    const method = routedMethodName(name)
    if (typeof (target as Record<string, unknown>)[method] !== 'function') {
      throw new TypeError(
        `Listener "${displayName(ctor)}" has no handle() or ${method}() method for event "${name}".`,
      )
    }
    return method
  }

  /**
   * Adds one registration. `listener` is the class or function (the identity used for
   * duplicates), `method` the method to call on a class instance, `instance` a ready one.
   */
  private register(name: string, listener: unknown, method: string | null, instance: object | null): void {
    const wildcard = isWildcard(name)
    const existing = wildcard
      ? this.wildcards.some(({ entry }) => entry.event === name && entry.listener === listener && entry.method === method)
      : (this.listeners.get(name) ?? EMPTY).some((entry) => entry.listener === listener && entry.method === method)
    if (existing) {
      this.logger.debug(`Listener "${label(displayName(listener), method)}" is already registered for "${name}"; ignored.`)
      return
    }
    const view: RegisteredListener = {
      event: name,
      name: this.subscribing !== null && !displayNamed(listener) ? this.subscribing : displayName(listener),
      listener,
      method,
      wildcard,
      queued: method !== null && isShouldQueue(listener),
    }
    const direct = this.createInvoker(listener, method, instance, wildcard)
    const entry: ListenerEntry = {
      ...view,
      seq: this.seq++,
      direct,
      invoke: view.queued
        ? (eventName, event) =>
            this.queueGateway !== null ? this.queueGateway.push(view, eventName, event) : direct(eventName, event)
        : direct,
    }
    if (wildcard) {
      this.wildcards.push({ entry, matches: wildcardMatcher(name) })
    } else {
      const list = this.listeners.get(name)
      if (list) list.push(entry)
      else this.listeners.set(name, [entry])
    }
    this.invalidate()
  }

  /** Class listeners are constructed once, on first use, and kept. */
  private createInvoker(listener: unknown, method: string | null, instance: object | null, wildcard: boolean): Invoker {
    if (method === null) {
      const fn = listener as AnyFunction as (...args: unknown[]) => unknown
      return wildcard ? fn : (_name, event) => fn(event)
    }
    const Ctor = listener as new () => Record<string, (...args: unknown[]) => unknown>
    let target = instance as Record<string, (...args: unknown[]) => unknown> | null
    return wildcard
      ? (name, event) => (target ??= new Ctor())[method]!(name, event)
      : (_name, event) => (target ??= new Ctor())[method]!(event)
  }

  private invalidate(): void {
    this.classCache.clear()
    this.nameCache.clear()
  }

  private entriesFor(event: EventKey): readonly ListenerEntry[] {
    return typeof event === 'function' ? this.resolveClass(event).entries : this.entriesForName(event)
  }

  private entriesForName(name: string): readonly ListenerEntry[] {
    const entries = this.collect([name], name)
    this.nameCache.set(name, entries)
    return entries
  }

  private entriesOf(event: object | string): readonly ListenerEntry[] {
    if (typeof event === 'string') return this.nameCache.get(event) ?? this.entriesForName(event)
    return (this.classCache.get(event.constructor) ?? this.resolveClass(event.constructor)).entries
  }

  /** An event class's listeners: its own name's, its parent classes', and matching wildcards. */
  private resolveClass(ctor: Function): ResolvedClass {
    const name = eventClassName(ctor)
    const names: string[] = []
    for (let c: Function | null = ctor; c && c !== Function.prototype && c !== Object; c = Object.getPrototypeOf(c)) {
      if (c === Dispatchable) break
      if (!Object.hasOwn(c, FRAMEWORK_CLASS)) names.push(eventClassName(c))
    }
    const queued = isShouldQueue(ctor)
    const heldForCommit = isShouldDispatchAfterCommit(ctor)
    const broadcast = isShouldBroadcast(ctor)
    const validate = schemaCheck(name, (ctor as { schema?: unknown }).schema)
    const resolved: ResolvedClass = {
      name,
      entries: this.collect(names, name),
      queued,
      afterCommit: heldForCommit,
      broadcast,
      validate,
      special: queued || heldForCommit || broadcast || validate !== null,
    }
    this.classes.set(name, ctor)
    this.classCache.set(ctor, resolved)
    return resolved
  }

  private collect(names: readonly string[], eventName: string): readonly ListenerEntry[] {
    const found: ListenerEntry[] = []
    for (const n of names) found.push(...(this.listeners.get(n) ?? EMPTY))
    for (const { entry, matches } of this.wildcards) if (matches(eventName)) found.push(entry)
    if (found.length === 0) return EMPTY
    return found.sort((a, b) => a.seq - b.seq)
  }
}

/** The check a class's `static schema` makes, or null without one. */
function schemaCheck(eventName: string, schema: unknown): ((event: object) => void) | null {
  if (schema === null || typeof schema !== 'object' || typeof (schema as Partial<PayloadSchema>).safeParse !== 'function') return null
  return (event) => {
    const result = (schema as PayloadSchema).safeParse(schemaData(event))
    if (result.success) return
    const issues = (result.error?.issues ?? [{ path: [], message: 'invalid' }]).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }))
    throw new EventValidationError(eventName, issues)
  }
}

/** How a middleware appears to `onError` when its `dispatching` hook fails. */
function middlewareEntry(middleware: EventMiddleware, eventName: string): ListenerEntry {
  return { event: eventName, name: middleware.name, listener: middleware, method: 'dispatching', wildcard: false, queued: false, seq: -1, invoke: () => undefined, direct: () => undefined }
}

function publicView(entry: ListenerEntry): RegisteredListener {
  return {
    event: entry.event,
    name: entry.name,
    listener: entry.listener,
    method: entry.method,
    wildcard: entry.wildcard,
    queued: entry.queued,
  }
}

/** Runs `fn`, its result or error as a value: a push that failed is reported in listener order, never left unhandled. */
async function settle(fn: () => unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() }
  } catch (error) {
    return { ok: false, error }
  }
}
