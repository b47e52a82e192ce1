import { Limit } from './limit.ts'

type LimitResolver = (job: object) => Limit | readonly Limit[] | null | undefined

const limiters = new Map<string, LimitResolver>()

/**
 * The named rate limiters of `RateLimited` job middleware (Laravel's `RateLimiter::for`): define
 * them once (a service provider's `boot()`, or the module of the job), use them by name.
 */
export const RateLimiter = {
  /**
   * Defines (or replaces) the limiter `name`: a function of the job (or queued listener) to its
   * limit, or list of limits (each must have room for the job to run).
   *
   * ```ts
   * RateLimiter.for('backups', (job: BackupSite) => job.user.vip ? Limit.none() : Limit.perHour(1).by(job.user.id))
   * ```
   */
  for<J extends object>(name: string, resolve: (job: J) => Limit | readonly Limit[] | null | undefined): void {
    if (typeof name !== 'string' || name.trim() === '') throw new TypeError('RateLimiter.for(name, ...): the name must be a non-empty string.')
    if (typeof resolve !== 'function') throw new TypeError(`RateLimiter.for('${name}', ...): the second argument must be a function of the job returning a Limit.`)
    limiters.set(name, resolve as LimitResolver)
  },

  /** True when a limiter of that name is defined. */
  has(name: string): boolean {
    return limiters.has(name)
  },

  /** Forgets a limiter (tests). */
  forget(name: string): void {
    limiters.delete(name)
  },

  /**
   * The limits `name` gives `job`, without `Limit.none()`s; throws, naming the fix, for a
   * limiter never defined or one that returned something else than limits.
   */
  limitsFor(name: string, job: object): Limit[] {
    const resolve = limiters.get(name)
    if (resolve === undefined) {
      throw new Error(`Rate limiter "${name}" is not defined: define it with RateLimiter.for('${name}', (job) => Limit.perMinute(10)) in a service provider's boot().`)
    }
    const result = resolve(job)
    const list = result === null || result === undefined ? [] : Array.isArray(result) ? (result as readonly unknown[]) : [result]
    const limits: Limit[] = []
    for (const limit of list) {
      if (!(limit instanceof Limit)) throw new TypeError(`Rate limiter "${name}" returned ${String(limit)}, not a Limit (Limit.perMinute(10), Limit.none(), or a list of them).`)
      if (!limit.unlimited) limits.push(limit)
    }
    return limits
  },
}
