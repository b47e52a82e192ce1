/**
 * A middleware step as the queue runs it around a queued listener: a function of the job (the
 * listener instance) and `next`, or an object with `handle(job, next)` (the jobs layer's
 * `RateLimited`, `ThrottlesExceptions`, `Skip`). Duck-typed, so the queue needs no import of jobs/.
 */
export type MiddlewareStep = ((job: object, next: () => Promise<unknown>) => unknown) | { handle(job: object, next: () => Promise<unknown>): unknown }

/** Runs `last` inside `steps`, outermost first; a step that does not call next() skips the rest. */
export function runMiddleware(steps: readonly unknown[], job: object, last: () => unknown, owner: string): Promise<unknown> {
  const step = (at: number): Promise<unknown> => {
    if (at === steps.length) return Promise.resolve(last())
    const middleware = steps[at]
    const next = () => step(at + 1)
    if (typeof middleware === 'function') return Promise.resolve((middleware as (job: object, next: () => Promise<unknown>) => unknown)(job, next))
    if (middleware !== null && typeof middleware === 'object' && typeof (middleware as { handle?: unknown }).handle === 'function') {
      return Promise.resolve((middleware as { handle(job: object, next: () => Promise<unknown>): unknown }).handle(job, next))
    }
    return Promise.reject(new TypeError(`${owner}'s middleware #${at + 1} is neither a function nor an object with handle(job, next).`))
  }
  return step(0)
}
