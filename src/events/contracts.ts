/**
 * The contracts application code declares on its classes. TypeScript interfaces vanish at run
 * time, so each contract is a class wrapper that brands the class once, in its `extends`
 * clause, where the framework can see it:
 *
 * ```ts
 * class SendReceipt extends ShouldQueue(Listener.for(OrderPlaced)) { queue = 'emails' }
 * class OrderPlaced extends ShouldBroadcast(Dispatchable) { broadcastOn() { return new Channel('orders') } }
 * ```
 */

const SHOULD_QUEUE = Symbol.for('herald.contract.ShouldQueue')
const SHOULD_BROADCAST = Symbol.for('herald.contract.ShouldBroadcast')
const SHOULD_BROADCAST_NOW = Symbol.for('herald.contract.ShouldBroadcastNow')
const AFTER_COMMIT = Symbol.for('herald.contract.ShouldDispatchAfterCommit')
const SHOULD_PUBLISH = Symbol.for('herald.contract.ShouldPublish')
/** Marks the framework's own intermediate classes, which are not events of their own. */
export const FRAMEWORK_CLASS = Symbol.for('herald.frameworkClass')

type AbstractClass = abstract new (...args: never) => object

/** Class `B` whose instances also carry `I`: its statics, its constructor, a wider instance. */
export type WithInstance<B extends AbstractClass, I> = Omit<B, 'prototype'> &
  (abstract new (...args: ConstructorParameters<B>) => InstanceType<B> & I)

function brand<B extends AbstractClass>(Base: B, contract: symbol, label: string): B {
  const Parent = Base as unknown as new (...args: unknown[]) => object
  const Branded = class extends Parent {}
  Object.defineProperty(Branded, 'name', { value: `${label}(${Base.name || 'anonymous'})` })
  Object.defineProperty(Branded, contract, { value: true })
  Object.defineProperty(Branded, FRAMEWORK_CLASS, { value: true })
  return Branded as unknown as B
}

function has(value: unknown, contract: symbol): boolean {
  const ctor = typeof value === 'function' ? value : (value as { constructor?: unknown } | null)?.constructor
  return typeof ctor === 'function' && (ctor as unknown as Record<symbol, unknown>)[contract] === true
}

/** Queue options a queued listener may declare, each as a property or a method of the event. */
export interface QueueOptions<E = unknown> {
  connection?: string | ((event: E) => string)
  queue?: string | ((event: E) => string)
  /** Seconds, or a Date to run at. */
  delay?: number | Date | ((event: E) => number | Date)
  /** Laravel's method names, read first when present: the connection, queue and delay for this event. */
  viaConnection?(event: E): string
  viaQueue?(event: E): string
  withDelay?(event: E): number | Date
  tries?: number | ((event: E) => number)
  /** Seconds before a retry: one number, or one per attempt (`[1, 5, 10]`). */
  backoff?: number | number[] | ((event: E) => number | number[])
  /** Retry until this moment; takes precedence over `tries`. */
  retryUntil?: Date | ((event: E) => Date)
  /** Seconds a job may run. */
  timeout?: number | ((event: E) => number)
  maxExceptions?: number | ((event: E) => number)
  failOnTimeout?: boolean | ((event: E) => boolean)
  afterCommit?: boolean | ((event: E) => boolean)
  priority?: number | ((event: E) => number)
  /** Queue the job only when this returns true. */
  shouldQueue?(event: E): boolean
  /** Called once the job has failed for good. */
  failed?(event: E, error: unknown): void | Promise<void>
}

/** The job a queued listener is running, as the queue worker exposes it. */
export interface JobContext {
  attempts(): number
  release(delaySeconds: number): void
  fail(error: unknown): void
  readonly signal: AbortSignal
}

/**
 * @internal Where the worker puts the running job on the listener instance it made for that
 * job (one instance per job), so `this.attempts()` and friends need no async context.
 */
export const JOB_CONTEXT = Symbol.for('herald.jobContext')

function runningJob(self: unknown, method: string): JobContext {
  const context = (self as Record<symbol, JobContext | undefined> | null)?.[JOB_CONTEXT]
  if (context === undefined) throw new Error(`${method}() works only while the listener runs as a queued job.`)
  return context
}

/** What a queued listener can do about its job from inside `handle`, Laravel's InteractsWithQueue. */
export interface InteractsWithQueue {
  /** This attempt's number, from 1. */
  attempts(): number
  /** Puts the job back on the queue, to run again in `delaySeconds`; this attempt counts. */
  release(delaySeconds?: number): void
  /** Fails the job now: no retry, `failed()` is called, a failed_jobs row is written. */
  fail(error?: unknown): void
  /** Aborts on the job's timeout and on worker shutdown. */
  readonly signal: AbortSignal
}

/**
 * Marks a listener class (or an event class) to run as a queued job instead of in the
 * request. Declare options as properties or methods; `implements QueueOptions<E>` type-checks
 * them. Inside `handle`, `this.attempts()`, `this.release(s)`, `this.fail(e)`, `this.signal`.
 */
export function ShouldQueue<B extends AbstractClass>(Base: B): WithInstance<B, InteractsWithQueue> {
  const branded = brand(Base, SHOULD_QUEUE, 'ShouldQueue') as unknown as { prototype: object }
  Object.defineProperties(branded.prototype, {
    attempts: {
      value(this: unknown) {
        return runningJob(this, 'attempts').attempts()
      },
      writable: true,
      configurable: true,
    },
    release: {
      value(this: unknown, delaySeconds = 0) {
        runningJob(this, 'release').release(delaySeconds)
      },
      writable: true,
      configurable: true,
    },
    fail: {
      value(this: unknown, error: unknown = new Error('Failed by the listener.')) {
        runningJob(this, 'fail').fail(error)
      },
      writable: true,
      configurable: true,
    },
    signal: {
      get(this: unknown) {
        return runningJob(this, 'signal').signal
      },
      configurable: true,
    },
  })
  return branded as unknown as WithInstance<B, InteractsWithQueue>
}

export function isShouldQueue(value: unknown): boolean {
  return has(value, SHOULD_QUEUE)
}

/** A channel as an event names it: a `Channel`, `PrivateChannel` or `PresenceChannel` of `herald`. */
export interface BroadcastChannel {
  readonly name: string
  /** The name clients subscribe to (`private-orders.1`). */
  readonly wireName: string
}

/** What a broadcast event declares. */
export interface BroadcastOptions {
  /** The channels to broadcast on. */
  broadcastOn(): BroadcastChannel | BroadcastChannel[]
  /** The name clients listen for; the event's name by default. */
  broadcastAs?(): string
  /** The payload; the event's public properties by default. */
  broadcastWith?(): Record<string, unknown>
  /** Broadcast only when this returns true. */
  broadcastWhen?(): boolean
  /** The queue for the broadcast job. */
  broadcastQueue?: string
}

/** Marks an event class to be broadcast to its channels through the queue. */
export function ShouldBroadcast<B extends AbstractClass>(Base: B): WithInstance<B, BroadcastOptions> {
  return brand(Base, SHOULD_BROADCAST, 'ShouldBroadcast') as unknown as WithInstance<B, BroadcastOptions>
}

/** Marks an event class to be broadcast immediately, not through the queue. */
export function ShouldBroadcastNow<B extends AbstractClass>(Base: B): WithInstance<B, BroadcastOptions> {
  const branded = brand(Base, SHOULD_BROADCAST, 'ShouldBroadcastNow')
  Object.defineProperty(branded, SHOULD_BROADCAST_NOW, { value: true })
  return branded as unknown as WithInstance<B, BroadcastOptions>
}

export function isShouldBroadcast(value: unknown): boolean {
  return has(value, SHOULD_BROADCAST)
}

export function isShouldBroadcastNow(value: unknown): boolean {
  return has(value, SHOULD_BROADCAST_NOW)
}

/** Marks an event class to be held until the surrounding database transaction commits. */
export function ShouldDispatchAfterCommit<B extends AbstractClass>(Base: B): B {
  return brand(Base, AFTER_COMMIT, 'ShouldDispatchAfterCommit')
}

export function isShouldDispatchAfterCommit(value: unknown): boolean {
  return has(value, AFTER_COMMIT)
}

/**
 * Marks an event class to be published to the event bus as well: its listeners in this process
 * run as usual, and every service subscribed with `EventBus.subscribe` receives it too.
 *
 * ```ts
 * class OrderPlaced extends ShouldPublish(Dispatchable) { constructor(readonly orderId: number) { super() } }
 * ```
 */
export function ShouldPublish<B extends AbstractClass>(Base: B): B {
  return brand(Base, SHOULD_PUBLISH, 'ShouldPublish')
}

export function isShouldPublish(value: unknown): boolean {
  return has(value, SHOULD_PUBLISH)
}
