import type { Limit } from './limit.ts'
import { rateLimits } from './rate-limit-store.ts'
import { RateLimiter } from './rate-limiter.ts'
import { runningJobOf } from './running.ts'

/**
 * Job middleware that holds a job to a named rate limiter (Laravel's `RateLimited`): while a
 * limit is full, the job is not run but released back to the queue until that limit's window
 * ends. That release does not use up one of the job's `tries` (`countAttempts()` makes it count);
 * `dontRelease()` deletes the job instead; `releaseAfter(s)` waits a fixed time instead. The
 * counts are shared by every worker (see `queue.limiter` in config/queue.ts).
 *
 * ```ts
 * RateLimiter.for('backups', (job: BackupSite) => Limit.perMinute(10).by(job.userId))
 *
 * class BackupSite extends Job {
 *   middleware() { return [new RateLimited('backups')] }
 * }
 * ```
 */
export class RateLimited {
  private shouldRelease = true
  private fixedDelay: number | null = null
  private counts = false
  /** Set for the `'throttle:10,1'` shorthand: its limits instead of a named limiter's. */
  private inline: readonly Limit[] | null = null

  constructor(readonly limiterName: string) {
    if (typeof limiterName !== 'string' || limiterName.trim() === '') throw new TypeError('new RateLimited(name): the name must be a non-empty string (a limiter defined with RateLimiter.for).')
  }

  /** @internal A RateLimited of its own limits, counted under `name` (the listeners' `'throttle:…'`). */
  static of(name: string, limits: readonly Limit[]): RateLimited {
    const middleware = new RateLimited(name)
    middleware.inline = limits
    return middleware
  }

  /** Deletes a job over its limit instead of releasing it. */
  dontRelease(): this {
    this.shouldRelease = false
    return this
  }

  /** Releases a job over its limit for `seconds`, instead of until the window ends. */
  releaseAfter(seconds: number): this {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`RateLimited.releaseAfter(${String(seconds)}): seconds must be a number of 0 or more.`)
    this.fixedDelay = seconds
    return this
  }

  /** Makes a release over the limit count as one of the job's attempts (Laravel's behaviour). */
  countAttempts(): this {
    this.counts = true
    return this
  }

  async handle(job: object, next: () => Promise<unknown>): Promise<unknown> {
    const limits = this.inline ?? RateLimiter.limitsFor(this.limiterName, job)
    if (limits.length === 0) return next()
    const running = runningJobOf(job)
    const connection = running?.connection ?? 'sync'
    const store = rateLimits()
    const counted: Limit[] = []
    for (const limit of limits) {
      const key = `${this.limiterName}:${limit.key}`
      const result = await store.hit(connection, key, limit.maxJobs, limit.decaySeconds)
      if (result.allowed) {
        counted.push(limit)
        continue
      }
      // The job does not run: the limits that counted it give it back.
      for (const earlier of counted) await store.giveBack(connection, `${this.limiterName}:${earlier.key}`, earlier.maxJobs, earlier.decaySeconds)
      if (this.shouldRelease && running !== null) {
        const delay = this.fixedDelay ?? result.msBeforeNext / 1000
        if (this.counts) running.release(delay)
        else running.releaseUncounted(delay)
      }
      return undefined
    }
    return next()
  }
}
