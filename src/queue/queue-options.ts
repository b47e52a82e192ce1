import type { QueueOptions } from '../events/contracts.ts'

/**
 * A listener's queue options, resolved once per class into functions of the event, so the
 * push path never asks "is it a property or a method?" again.
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

const cache = new WeakMap<Function, ResolvedQueueOptions>()

type Reader<T> = (event: unknown) => T | undefined

function reader<T>(probe: Record<string, unknown>, key: keyof QueueOptions): Reader<T> {
  const value = probe[key]
  if (typeof value === 'function') return (event) => (value as (event: unknown) => T).call(probe, event)
  return () => value as T | undefined
}

function seconds(value: number | Date | undefined): number {
  if (value === undefined) return 0
  if (value instanceof Date) return Math.max(0, (value.getTime() - Date.now()) / 1000)
  return Math.max(0, value)
}

/** Reads the options off one instance of the listener class (constructed for the purpose). */
export function resolveQueueOptions(listener: Function): ResolvedQueueOptions {
  const known = cache.get(listener)
  if (known) return known
  const probe = new (listener as new () => Record<string, unknown>)()
  const read = <T>(key: keyof QueueOptions) => reader<T>(probe, key)
  const connection = read<string>('connection')
  const queue = read<string>('queue')
  const delay = read<number | Date>('delay')
  const tries = read<number>('tries')
  const backoff = read<number | number[]>('backoff')
  const retryUntil = read<Date>('retryUntil')
  const timeout = read<number>('timeout')
  const maxExceptions = read<number>('maxExceptions')
  const failOnTimeout = read<boolean>('failOnTimeout')
  const afterCommit = read<boolean>('afterCommit')
  const priority = read<number>('priority')
  const shouldQueue = typeof probe.shouldQueue === 'function' ? read<boolean>('shouldQueue') : () => true
  const resolved: ResolvedQueueOptions = {
    connection,
    queue,
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
  cache.set(listener, resolved)
  return resolved
}
