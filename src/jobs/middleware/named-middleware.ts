import { Limit } from './limit.ts'
import { RateLimited } from './rate-limited.ts'

/**
 * The middleware a queued listener may name by string: `'throttle:<jobs>,<minutes>'` (minutes
 * default 1), at most that many runs of the listener per window, counted for the listener class,
 * released (not using up a try) while over.
 *
 * ```ts
 * class SyncCrm extends ShouldQueue(Listener.for(OrderPlaced)) { middleware = ['throttle:10,1'] }
 * ```
 */
export function namedMiddleware(spec: string, listener: string): RateLimited {
  const match = /^throttle:(\d+)(?:,(\d+))?$/.exec(spec.trim())
  if (match === null) {
    throw new Error(`Listener "${listener}" names the middleware "${spec}", which Herald does not know: the named middleware is 'throttle:<jobs>,<minutes>' (e.g. 'throttle:10,1').`)
  }
  const jobs = Number(match[1])
  const minutes = match[2] === undefined ? 1 : Number(match[2])
  if (jobs < 1 || minutes < 1) throw new Error(`Listener "${listener}": "${spec}" needs at least 1 job per at least 1 minute.`)
  return RateLimited.of(`throttle:${listener}`, [Limit.perMinute(jobs, minutes)])
}
