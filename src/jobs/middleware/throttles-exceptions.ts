import { rateLimits } from './rate-limit-store.ts'
import { classNameOf, runningJobOf } from './running.ts'

/**
 * Job middleware for a job that calls a failing service (Laravel's `ThrottlesExceptions`): an
 * exception is counted and the job released (after `backoff(minutes)`, default at once); once
 * `maxExceptions` were counted within `decaySeconds`, the job is not run but released until
 * that window ends (not using up a try). A success clears the count. Counted per job class, or
 * per `by(key)`; `when(error => …)` counts only some errors (others are thrown as usual).
 *
 * ```ts
 * middleware() { return [new ThrottlesExceptions(10, 5 * 60).backoff(1)] }
 * ```
 */
export class ThrottlesExceptions {
  private retryAfterMinutes = 0
  private key: string | null = null
  private counts: ((error: unknown) => boolean) | null = null

  constructor(
    readonly maxExceptions = 10,
    readonly decaySeconds = 600,
  ) {
    if (!Number.isSafeInteger(maxExceptions) || maxExceptions < 1) {
      throw new RangeError(`new ThrottlesExceptions(${String(maxExceptions)}, …): the number of exceptions must be a whole number of 1 or more.`)
    }
    if (!Number.isSafeInteger(decaySeconds) || decaySeconds < 1) {
      throw new RangeError(`new ThrottlesExceptions(${maxExceptions}, ${String(decaySeconds)}): the window must be a whole number of seconds, 1 or more.`)
    }
  }

  /** Minutes to wait before running the job again after an exception (default 0). */
  backoff(minutes: number): this {
    if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`ThrottlesExceptions.backoff(${String(minutes)}): minutes must be a number of 0 or more.`)
    this.retryAfterMinutes = minutes
    return this
  }

  /** Counts the exceptions under `key` (jobs calling the same service share one count). */
  by(key: string): this {
    this.key = key
    return this
  }

  /** Counts (and throttles on) only the errors `matches` accepts; the others are thrown as usual. */
  when(matches: (error: unknown) => boolean): this {
    this.counts = matches
    return this
  }

  async handle(job: object, next: () => Promise<unknown>): Promise<unknown> {
    const running = runningJobOf(job)
    const connection = running?.connection ?? 'sync'
    const store = rateLimits()
    const key = `throttles-exceptions:${this.key ?? classNameOf(job)}`
    const now = await store.peek(connection, key, this.maxExceptions, this.decaySeconds)
    if (!now.allowed && running !== null) {
      running.releaseUncounted(now.msBeforeNext / 1000)
      return undefined
    }
    let result: unknown
    try {
      result = await next()
    } catch (error) {
      // Outside a queue there is nothing to release the job to: the error stands.
      if (running === null || (this.counts !== null && !this.counts(error))) throw error
      await store.add(connection, key, this.maxExceptions, this.decaySeconds)
      running.release(this.retryAfterMinutes * 60)
      return undefined
    }
    if (now.consumed > 0) await store.clear(connection, key, this.maxExceptions, this.decaySeconds)
    return result
  }
}
