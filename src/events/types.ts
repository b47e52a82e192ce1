/**
 * The types that carry the event → payload relation through the dispatcher, so that a listener
 * for the wrong event is a compile error (the AdonisJS idea), for class events and for string
 * events alike.
 */

/**
 * String events and their payloads. Augment it in your application:
 *
 * ```ts
 * declare module 'herald' {
 *   interface EventsList { 'task.completed': { id: number } }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EventsList {}

/** A class whose instances are events. Its name is `static eventName` or else the class name. */
export type EventClass<E extends object = object> = (abstract new (...args: never) => E) & {
  readonly eventName?: string
}

/** A pattern with `*` in it: `orders.*`, `*.created`, `*`. */
export type WildcardPattern = `${string}*${string}`

/** The names of the string events declared in {@link EventsList}. */
export type KnownEventName = keyof EventsList & string

/** Anything `listen()` accepts as an event: a class, a string name or a wildcard pattern. */
export type EventKey = EventClass | string

/** The payload a listener of `K` receives. Unknown string names carry `unknown`. */
export type PayloadOf<K> = K extends EventClass<infer E>
  ? E
  : K extends KnownEventName
    ? EventsList[K]
    : unknown

/** What a listener may return: `false` stops the remaining listeners; a promise is awaited. */
export type ListenerResult = unknown

/** A function listener for one event (or a union of events). */
export type ListenerFunction<P> = (event: P) => ListenerResult

/** A function listener for a wildcard pattern: it receives the event's name first. */
export type WildcardListenerFunction = (eventName: string, event: unknown) => ListenerResult

/** A listener class: instantiated once by the dispatcher, its `handle` runs for each event. */
export type ListenerClass<P> = new () => { handle: (event: P) => ListenerResult }

/** A listener class for wildcard patterns. */
export type WildcardListenerClass = new () => {
  handle: (eventName: string, event: unknown) => ListenerResult
}

/**
 * A subscriber passed to `listen()`: a class without `handle` whose methods are routed by
 * convention, `handleOrderShipped` for `OrderShipped` and `handleTaskCompleted` for
 * `task.completed`. Its methods are checked at registration, not by the compiler.
 */
export type RoutedSubscriberClass = new () => object & { readonly handle?: never }

/** Anything `listen()` accepts as the listener of payload `P`. */
export type ListenerLike<P> = ListenerFunction<P> | ListenerClass<P> | RoutedSubscriberClass

/** Anything `listen()` accepts as the listener of a wildcard pattern. */
export type WildcardListenerLike = WildcardListenerFunction | WildcardListenerClass

/** True when K is a wildcard pattern literal. */
export type IsWildcard<K> = K extends WildcardPattern ? true : false

/** The listener type for a list of event keys: wildcard style if any key is a pattern. */
export type ListenerFor<K> = true extends IsWildcard<K> ? WildcardListenerLike : ListenerLike<PayloadOf<K>>

/** A registered listener, as `getListeners()` and `onError` report it. */
export interface RegisteredListener {
  /** The event name or wildcard pattern it was registered for. */
  readonly event: string
  /** Display name: the class name, the function name, or `Closure`. */
  readonly name: string
  /** What was registered: the class or the function. */
  readonly listener: unknown
  /** For subscribers, the routed method name. */
  readonly method: string | null
  readonly wildcard: boolean
  /** A `ShouldQueue` listener: it runs as a job. */
  readonly queued: boolean
}

/** Receives each listener's error when set with `onError`; dispatch then does not reject. */
export type ListenerErrorHandler = (
  error: unknown,
  event: unknown,
  listener: RegisteredListener,
) => void | Promise<void>

/** Where the dispatcher writes its debug notes (duplicate registrations and such). */
export interface DebugLogger {
  debug(message: string): void
}
