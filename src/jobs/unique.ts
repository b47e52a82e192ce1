import type { Job } from './job.ts'

const SHOULD_BE_UNIQUE = Symbol.for('herald.contract.ShouldBeUnique')
const UNTIL_PROCESSING = Symbol.for('herald.contract.ShouldBeUniqueUntilProcessing')
const FRAMEWORK_CLASS = Symbol.for('herald.frameworkClass')

type JobBase = abstract new (...args: never) => Job

/**
 * A unique job's options, each a property or a method (`implements UniqueJobOptions`
 * type-checks them).
 */
export interface UniqueJobOptions {
  /** What makes two dispatches the same job, besides its class: `this.productId`. Default: none (one per class). */
  uniqueId?: string | number | (() => string | number)
  /** Seconds the lock lasts at most, should the job never finish. Default 0: until it is released. */
  uniqueFor?: number | (() => number)
}

function brand<B extends JobBase>(Base: B, contract: symbol, label: string): B {
  const Parent = Base as unknown as new (...args: unknown[]) => object
  const Branded = class extends Parent {}
  Object.defineProperty(Branded, 'name', { value: `${label}(${Base.name || 'anonymous'})` })
  Object.defineProperty(Branded, contract, { value: true })
  Object.defineProperty(Branded, FRAMEWORK_CLASS, { value: true })
  return Branded as unknown as B
}

/**
 * Laravel's `ShouldBeUnique`: while one of these jobs is pending (queued, or running), a second
 * dispatch of the same job (same class and `uniqueId`) is dropped; the dispatch resolves to ''
 * and says so in the log at debug level. The lock is released when the job succeeds, when it
 * fails for good, and after `uniqueFor` seconds. It lives where the job's connection says: Redis
 * for bullmq, the `cache_locks` table otherwise.
 *
 * ```ts
 * export default class UpdateSearchIndex extends ShouldBeUnique(Job) implements UniqueJobOptions {
 *   uniqueFor = 3600
 *   constructor(readonly productId: number) { super() }
 *   uniqueId() { return this.productId }
 *   async handle() { … }
 * }
 * ```
 */
export function ShouldBeUnique<B extends JobBase>(Base: B): B {
  return brand(Base, SHOULD_BE_UNIQUE, 'ShouldBeUnique')
}

/**
 * Laravel's `ShouldBeUniqueUntilProcessing`: unique while queued, and the lock is released as
 * soon as the job starts, so the same job can be queued again while this one runs.
 *
 * ```ts
 * export default class RefreshFeed extends ShouldBeUniqueUntilProcessing(Job) { … }
 * ```
 */
export function ShouldBeUniqueUntilProcessing<B extends JobBase>(Base: B): B {
  const branded = brand(Base, SHOULD_BE_UNIQUE, 'ShouldBeUniqueUntilProcessing')
  Object.defineProperty(branded, UNTIL_PROCESSING, { value: true })
  return branded
}

function marked(value: unknown, contract: symbol): boolean {
  const ctor = typeof value === 'function' ? value : (value as { constructor?: unknown } | null)?.constructor
  return typeof ctor === 'function' && (ctor as unknown as Record<symbol, unknown>)[contract] === true
}

/** True for a job (or job class) marked ShouldBeUnique or ShouldBeUniqueUntilProcessing. */
export function isShouldBeUnique(value: unknown): boolean {
  return marked(value, SHOULD_BE_UNIQUE)
}

/** True for a job (or job class) marked ShouldBeUniqueUntilProcessing. */
export function isShouldBeUniqueUntilProcessing(value: unknown): boolean {
  return marked(value, UNTIL_PROCESSING)
}

function option(job: Job, name: keyof UniqueJobOptions): unknown {
  const value = (job as unknown as Record<string, unknown>)[name]
  return typeof value === 'function' ? (value as () => unknown).call(job) : value
}

/** The job's `uniqueId`, checked: '' when it declares none. */
export function uniqueIdOf(job: Job, jobName: string): string {
  const id = option(job, 'uniqueId')
  if (id === undefined || id === null) return ''
  if ((typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id)) || typeof id === 'bigint') return String(id)
  throw new TypeError(`${jobName}'s uniqueId must be a non-empty string or a number, got ${JSON.stringify(id) ?? String(id)}.`)
}

/** The job's `uniqueFor` in seconds, checked: 0 when it declares none (until released). */
export function uniqueForOf(job: Job, jobName: string): number {
  const seconds = option(job, 'uniqueFor')
  if (seconds === undefined || seconds === null) return 0
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new TypeError(`${jobName}'s uniqueFor must be a number of seconds, 0 or more (0: until released), got ${JSON.stringify(seconds) ?? String(seconds)}.`)
  }
  return seconds
}
