/**
 * One rate limit of a named limiter (Laravel's `Limit`): at most `maxJobs` per `decaySeconds`,
 * counted per key (`by(...)`), in a fixed window that starts with the first job counted.
 *
 * ```ts
 * RateLimiter.for('backups', (job: Backup) => Limit.perHour(1).by(job.userId))
 * RateLimiter.for('mail', () => [Limit.perSecond(5), Limit.perDay(10_000)])
 * ```
 */
export class Limit {
  private constructor(
    readonly maxJobs: number,
    readonly decaySeconds: number,
    /** What the count is per (a user id, a tenant); '' for one count for all jobs. */
    readonly key: string = '',
  ) {}

  /** `maxJobs` per `seconds` seconds (default 1). */
  static perSecond(maxJobs: number, seconds = 1): Limit {
    return Limit.make('perSecond', maxJobs, seconds, 1)
  }

  /** `maxJobs` per `minutes` minutes (default 1). */
  static perMinute(maxJobs: number, minutes = 1): Limit {
    return Limit.make('perMinute', maxJobs, minutes, 60)
  }

  /** `maxJobs` per `hours` hours (default 1). */
  static perHour(maxJobs: number, hours = 1): Limit {
    return Limit.make('perHour', maxJobs, hours, 3600)
  }

  /** `maxJobs` per `days` days (default 1). */
  static perDay(maxJobs: number, days = 1): Limit {
    return Limit.make('perDay', maxJobs, days, 86_400)
  }

  /** No limit: the job runs at once (for a limiter that limits only some jobs). */
  static none(): Limit {
    return new Limit(Number.POSITIVE_INFINITY, 0)
  }

  /** The same limit counted per `key` (a user id: each user has `maxJobs` of their own). */
  by(key: string | number | bigint): Limit {
    return new Limit(this.maxJobs, this.decaySeconds, String(key))
  }

  /** True for `Limit.none()`. */
  get unlimited(): boolean {
    return this.maxJobs === Number.POSITIVE_INFINITY
  }

  private static make(method: string, maxJobs: number, units: number, unitSeconds: number): Limit {
    if (!Number.isSafeInteger(maxJobs) || maxJobs < 1) {
      throw new RangeError(`Limit.${method}(${String(maxJobs)}): the number of jobs must be a whole number of 1 or more.`)
    }
    if (!Number.isSafeInteger(units) || units < 1) {
      throw new RangeError(`Limit.${method}(${maxJobs}, ${String(units)}): the window must be a whole number of 1 or more.`)
    }
    return new Limit(maxJobs, units * unitSeconds)
  }
}
