import { FRAMEWORK_CLASS, isShouldBroadcast, isShouldDispatchAfterCommit, isShouldPublish, isShouldQueue } from './contracts.ts'
import { Dispatchable, eventClassName } from './dispatchable.ts'
import { schemaCheck } from './event-validation.ts'
import { routedMethodName } from './listener.ts'
import type { DebugLogger, EventKey, RegisteredListener } from './types.ts'
import { subscriberRoutes } from './subscriber-routes.ts'
import { isWildcard, wildcardMatcher } from './wildcard.ts'

/** Calls a listener: `(eventName, event)`, whatever shape the listener has. */
export type Invoker = (eventName: string, event: unknown) => unknown

/** A registered listener plus what the hot path needs to call it. */
export interface ListenerEntry {
  /** What `getListeners()`, `onError` and middleware see of it (frozen). */
  readonly view: RegisteredListener
  /** A ShouldQueue listener: handed to the queue when one is installed. */
  readonly queued: boolean
  /** Registration order: wildcards and names interleave by it. */
  readonly seq: number
  /** Runs the listener here and now (a queued one too: what a replay and the sync queue call). */
  readonly direct: Invoker
}

/** What the dispatch path needs of an event class: resolved once, dropped on listen/forget/flush. */
export interface ResolvedClass {
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
  /** A ShouldPublish event: published to the event bus as well as dispatched. */
  readonly published: boolean
  /** Any of the five: the one flag the hot path reads. */
  readonly special: boolean
  /** `static concurrent = true`: its listeners start together instead of one after another. */
  readonly concurrent: boolean
}

interface WildcardEntry {
  readonly entry: ListenerEntry
  readonly matches: (eventName: string) => boolean
}

const EMPTY: readonly ListenerEntry[] = Object.freeze([])

/**
 * Who listens to what: registrations by event name and by wildcard pattern, the listeners of
 * each event class and name (resolved once, with the class's contracts, and cached until the
 * next registration), the event classes seen by name, and the queued listeners by name, which
 * a worker looks up for each job.
 */
export class ListenerRegistry {
  private readonly named = new Map<string, ListenerEntry[]>()
  private readonly wildcards: WildcardEntry[] = []
  private readonly classCache = new Map<Function, ResolvedClass>()
  private readonly nameCache = new Map<string, readonly ListenerEntry[]>()
  private readonly subscribed = new Set<unknown>()
  /** Event classes seen by name, so a worker can rebuild queued events. */
  private readonly classes = new Map<string, Function>()
  private queuedByName: Map<string, RegisteredListener> | null = null
  private seq = 0
  /** The subscriber whose subscribe() is running: it names the closures it registers. */
  private subscribing: string | null = null

  constructor(private readonly logger: DebugLogger) {}

  /** Registers a listener (a class, or a function) for one event name, class name or pattern. */
  add(name: string, listener: unknown): void {
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

  /**
   * Registers a subscriber: one with `subscribe(events)` is handed to `callSubscribe` (the
   * closures it registers are named after it); one with `static events` has its methods routed:
   * by name for event classes and names (`handleOrderShipped`), or as its route maps say
   * (`{ 'task.*': 'handleTaskEvents' }`, see subscriber-routes.ts). The same class twice is a no-op.
   */
  subscribe(subscriber: (new () => object) | object, callSubscribe: (instance: { subscribe(events: unknown): void }) => void): void {
    const ctor = typeof subscriber === 'function' ? subscriber : subscriber.constructor
    // A class once (an instance of it after it too); each other instance once: two configured WebhookSubscribers are two feeds.
    if (this.subscribed.has(ctor) || this.subscribed.has(subscriber)) {
      this.logger.debug(`Subscriber "${displayName(ctor)}" is already subscribed; ignored.`)
      return
    }
    const instance = typeof subscriber === 'function' ? new (subscriber as new () => object)() : subscriber
    if (typeof (instance as { subscribe?: unknown }).subscribe === 'function') {
      this.subscribing = displayName(ctor)
      try {
        callSubscribe(instance as { subscribe(events: unknown): void })
      } finally {
        this.subscribing = null
      }
    } else {
      const routes = subscriberRoutes((ctor as { events?: unknown }).events, displayName(ctor))
      if (routes === undefined) {
        throw new TypeError(`Subscriber "${displayName(ctor)}" has neither a subscribe(events) method nor static events.`)
      }
      // Every route is checked before any is registered: a bad one leaves nothing half subscribed.
      const resolved = routes.map(({ event, method }) => {
        const name = this.nameOf(event)
        return { name, method: method === null ? this.routedMethod(instance, ctor, name) : routeMethod(instance, ctor, name, method) }
      })
      for (const { name, method } of resolved) this.register(name, ctor, method, instance)
    }
    this.subscribed.add(subscriber)
  }

  /** The name an event key stands for (a class's event name); remembers the class. */
  nameOf(key: EventKey): string {
    if (typeof key === 'string') return key
    if (typeof key === 'function') {
      const name = eventClassName(key)
      this.classes.set(name, key)
      return name
    }
    throw new TypeError(`Cannot listen to ${String(key)}: give an event class, a name or a pattern.`)
  }

  /** An event class's listeners and contracts: its own name's listeners, its parent classes', and matching wildcards. */
  forClass(ctor: Function): ResolvedClass {
    return this.classCache.get(ctor) ?? this.resolve(ctor)
  }

  private resolve(ctor: Function): ResolvedClass {
    const name = eventClassName(ctor)
    const names: string[] = []
    for (let c: Function | null = ctor; c && c !== Function.prototype && c !== Object; c = Object.getPrototypeOf(c)) {
      if (c === Dispatchable) break
      if (!Object.hasOwn(c, FRAMEWORK_CLASS)) names.push(eventClassName(c))
    }
    const queued = isShouldQueue(ctor)
    const afterCommit = isShouldDispatchAfterCommit(ctor)
    const broadcast = isShouldBroadcast(ctor)
    const published = isShouldPublish(ctor)
    const validate = schemaCheck(name, (ctor as { schema?: unknown }).schema)
    const resolved: ResolvedClass = {
      name,
      entries: this.collect(names, name),
      queued,
      afterCommit,
      broadcast,
      validate,
      published,
      special: queued || afterCommit || broadcast || published || validate !== null,
      concurrent: (ctor as { concurrent?: unknown }).concurrent === true,
    }
    this.classes.set(name, ctor)
    this.classCache.set(ctor, resolved)
    return resolved
  }

  /** The listeners of a string event (wildcards included), in registration order. */
  forName(name: string): readonly ListenerEntry[] {
    return this.nameCache.get(name) ?? this.collectName(name)
  }

  private collectName(name: string): readonly ListenerEntry[] {
    const entries = this.collect([name], name)
    this.nameCache.set(name, entries)
    return entries
  }

  /** The listeners of a dispatched event object or string event. */
  entriesOf(event: object | string): readonly ListenerEntry[] {
    return typeof event === 'string' ? this.forName(event) : this.forClass(event.constructor).entries
  }

  /** The listeners of an event key (a class or a name). */
  entriesFor(event: EventKey): readonly ListenerEntry[] {
    return typeof event === 'function' ? this.forClass(event).entries : this.forName(event)
  }

  /** True when a wildcard listener matches the event name. */
  hasWildcard(name: string): boolean {
    return this.wildcards.some((wildcard) => wildcard.matches(name))
  }

  /** Every registration, keyed by event name or pattern. */
  all(): Map<string, RegisteredListener[]> {
    const all = new Map<string, RegisteredListener[]>()
    for (const [name, entries] of this.named) all.set(name, entries.map((entry) => entry.view))
    for (const { entry } of this.wildcards) all.set(entry.view.event, [...(all.get(entry.view.event) ?? []), entry.view])
    return all
  }

  /**
   * The queued listener registered under `name` (`SendReceipt`): what a worker runs for a job.
   * The first registered wins; the lookup is built once per registration change.
   */
  queuedListener(name: string): RegisteredListener | undefined {
    if (this.queuedByName === null) {
      const byName = new Map<string, RegisteredListener>()
      for (const listeners of this.all().values()) {
        for (const view of listeners) if (view.queued && !byName.has(view.name)) byName.set(view.name, view)
      }
      this.queuedByName = byName
    }
    return this.queuedByName.get(name)
  }

  /** The event class last seen under `name`, if any. */
  eventClass(name: string): Function | undefined {
    return this.classes.get(name)
  }

  /** Removes every listener of an event name or pattern, or only `listener` (what was registered). */
  forget(name: string, listener?: unknown): void {
    const doomed = (entry: ListenerEntry) => listener === undefined || entry.view.listener === listener
    const named = (this.named.get(name) ?? EMPTY).filter((entry) => !doomed(entry))
    if (named.length > 0) this.named.set(name, named)
    else this.named.delete(name)
    for (let i = this.wildcards.length - 1; i >= 0; i--) {
      const { entry } = this.wildcards[i]!
      if (entry.view.event === name && doomed(entry)) this.wildcards.splice(i, 1)
    }
    this.invalidate()
  }

  /** Removes every listener and subscriber. */
  flush(): void {
    this.named.clear()
    this.wildcards.length = 0
    this.subscribed.clear()
    this.invalidate()
  }

  private routedMethod(target: object, ctor: Function, name: string): string {
    const method = routedMethodName(name)
    if (typeof (target as Record<string, unknown>)[method] !== 'function') {
      throw new TypeError(`Listener "${displayName(ctor)}" has no handle() or ${method}() method for event "${name}".`)
    }
    return method
  }

  /**
   * Adds one registration. `listener` is the class or function (the identity used for
   * duplicates), `method` the method to call on a class instance, `instance` a ready one.
   */
  private register(name: string, listener: unknown, method: string | null, instance: object | null): void {
    const wildcard = isWildcard(name)
    const same = (entry: ListenerEntry) => entry.view.listener === listener && entry.view.method === method
    const existing = wildcard
      ? this.wildcards.some(({ entry }) => entry.view.event === name && same(entry))
      : (this.named.get(name) ?? EMPTY).some(same)
    if (existing) {
      this.logger.debug(`Listener "${listenerLabel(displayName(listener), method)}" is already registered for "${name}"; ignored.`)
      return
    }
    const queued = method !== null && isShouldQueue(listener)
    const view: RegisteredListener = Object.freeze({
      event: name,
      name: this.subscribing !== null && !displayNamed(listener) ? this.subscribing : displayName(listener),
      listener,
      method,
      wildcard,
      queued,
    })
    const entry: ListenerEntry = { view, queued, seq: this.seq++, direct: createInvoker(listener, method, instance, wildcard) }
    if (wildcard) {
      this.wildcards.push({ entry, matches: wildcardMatcher(name) })
    } else {
      const list = this.named.get(name)
      if (list) list.push(entry)
      else this.named.set(name, [entry])
    }
    this.invalidate()
  }

  private invalidate(): void {
    this.classCache.clear()
    this.nameCache.clear()
    this.queuedByName = null
  }

  private collect(names: readonly string[], eventName: string): readonly ListenerEntry[] {
    const found: ListenerEntry[] = []
    for (const n of names) found.push(...(this.named.get(n) ?? EMPTY))
    for (const { entry, matches } of this.wildcards) if (matches(eventName)) found.push(entry)
    if (found.length === 0) return EMPTY
    return found.sort((a, b) => a.seq - b.seq)
  }
}

/**
 * The method a subscriber's route names, checked: one of its own (`Object.prototype`'s
 * `constructor` or `toString` would be called as a listener), and a function.
 */
function routeMethod(target: object, ctor: Function, name: string, method: string): string {
  const own = !(method in Object.prototype) && typeof (target as Record<string, unknown>)[method] === 'function'
  if (!own) throw new TypeError(`Subscriber "${displayName(ctor)}" routes "${name}" to ${method}(), a method it does not have.`)
  return method
}

/** `SendReceipt`, or `OrderSubscriber@handleOrderShipped` for a routed method. */
export function listenerLabel(name: string, method: string | null): string {
  return method && method !== 'handle' ? `${name}@${method}` : name
}

/** Class listeners are constructed once, on first use, and kept. */
function createInvoker(listener: unknown, method: string | null, instance: object | null, wildcard: boolean): Invoker {
  if (method === null) {
    const fn = listener as (...args: unknown[]) => unknown
    return wildcard ? fn : (_name, event) => fn(event)
  }
  const Ctor = listener as new () => Record<string, (...args: unknown[]) => unknown>
  let target = instance as Record<string, (...args: unknown[]) => unknown> | null
  return wildcard ? (name, event) => (target ??= new Ctor())[method]!(name, event) : (_name, event) => (target ??= new Ctor())[method]!(event)
}

function displayName(listener: unknown): string {
  if (typeof listener === 'function' && listener.name) return listener.name
  return 'Closure'
}

function displayNamed(listener: unknown): boolean {
  return typeof listener === 'function' && listener.name !== ''
}

function isClass(value: unknown): value is new () => object {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value))
}
