import type { QueueOptions } from '../events/contracts.ts'

/**
 * A listener's (or a queued event's) queue options, resolved once per class into functions of
 * the event, so the push path never asks "is it a property or a method?" again.
 */
export interface ResolvedQueueOptions {
  connection(event: unknown): string | undefined
  queue(event: unknown): string | undefined
  /** Seconds from now. */
  delay(event: unknown): number
  tries(event: unknown): number | null
  backoff(event: unknown): number[] | null
  /** Epoch milliseconds. */
  retryUntil(event: unknown): number | null
  timeout(event: unknown): number | null
  maxExceptions(event: unknown): number | null
  failOnTimeout(event: unknown): boolean
  afterCommit(event: unknown): boolean
  priority(event: unknown): number
  shouldQueue(event: unknown): boolean
}

type Reader<T> = (event: unknown) => T | undefined
/** Makes the reader of one option, once per class. */
type ReaderFactory = <T>(key: keyof QueueOptions) => Reader<T>

const listenerCache = new WeakMap<Function, ResolvedQueueOptions>()
const eventCache = new WeakMap<Function, ResolvedQueueOptions>()

/**
 * A listener class's options, read off one instance made for the purpose (a worker makes its
 * listeners the same way, with no arguments): a method is called on that instance with the
 * event, a property is read once.
 */
export function resolveQueueOptions(listener: Function): ResolvedQueueOptions {
  const known = listenerCache.get(listener)
  if (known) return known
  const probe = new (listener as new () => Record<string, unknown>)()
  const resolved = resolveWith(<T>(key: keyof QueueOptions): Reader<T> => {
    const value = probe[key]
    if (typeof value === 'function') return (event) => (value as (event: unknown) => T).call(probe, event)
    return () => value as T | undefined
  }, typeof probe.shouldQueue === 'function')
  listenerCache.set(listener, resolved)
  return resolved
}

/**
 * A ShouldQueue event's options. The event is its own options object and its constructor may
 * need arguments (`constructor(readonly order: Order)`), so no instance is made: what is static
 * is resolved once per class, from the first event dispatched: an option that is a method (on
 * the prototype, or an arrow-function field) is called on each event; any other is a value read
 * off each event, since a constructor may set it from its arguments (`this.queue = order.region`).
 */
export function resolveEventQueueOptions(event: object): ResolvedQueueOptions {
  const ctor = event.constructor
  const known = eventCache.get(ctor)
  if (known) return known
  const sample = event as Record<string, unknown>
  const resolved = resolveWith(<T>(key: keyof QueueOptions): Reader<T> => {
    if (typeof sample[key] === 'function') {
      return (each) => ((each as Record<string, unknown>)[key] as (event: unknown) => T).call(each, each)
    }
    return (each) => (each as Record<string, unknown>)[key] as T | undefined
  }, false)
  eventCache.set(ctor, resolved)
  return resolved
}

function seconds(value: number | Date | undefined): number {
  if (value === undefined) return 0
  if (value instanceof Date) return Math.max(0, (value.getTime() - Date.now()) / 1000)
  return Math.max(0, value)
}

/** Laravel's `viaConnection()`/`viaQueue()`/`withDelay()` first, then the property or method. */
function preferred<T>(read: ReaderFactory, method: keyof QueueOptions, option: keyof QueueOptions): Reader<T> {
  const via = read<T>(method)
  const plain = read<T>(option)
  return (event) => via(event) ?? plain(event)
}

function resolveWith(read: ReaderFactory, hasShouldQueue: boolean): ResolvedQueueOptions {
  const delay = preferred<number | Date>(read, 'withDelay', 'delay')
  const tries = read<number>('tries')
  const backoff = read<number | number[]>('backoff')
  const retryUntil = read<Date>('retryUntil')
  const timeout = read<number>('timeout')
  const maxExceptions = read<number>('maxExceptions')
  const failOnTimeout = read<boolean>('failOnTimeout')
  const afterCommit = read<boolean>('afterCommit')
  const priority = read<number>('priority')
  const shouldQueue = hasShouldQueue ? read<boolean>('shouldQueue') : () => true
  return {
    connection: preferred<string>(read, 'viaConnection', 'connection'),
    queue: preferred<string>(read, 'viaQueue', 'queue'),
    delay: (event) => seconds(delay(event)),
    tries: (event) => tries(event) ?? null,
    backoff: (event) => {
      const value = backoff(event)
      return value === undefined ? null : Array.isArray(value) ? value : [value]
    },
    retryUntil: (event) => retryUntil(event)?.getTime() ?? null,
    timeout: (event) => timeout(event) ?? null,
    maxExceptions: (event) => maxExceptions(event) ?? null,
    failOnTimeout: (event) => failOnTimeout(event) ?? false,
    afterCommit: (event) => afterCommit(event) ?? false,
    priority: (event) => priority(event) ?? 0,
    shouldQueue: (event) => shouldQueue(event) !== false,
  }
}
