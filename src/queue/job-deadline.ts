import type { Logger } from '../foundation/logger.ts'
import type { RunningJob } from './running-job.ts'

/** A job that failed for good with a reason (no retry), e.g. an unknown listener. */
export class JobFailedError extends Error {
  override readonly name = 'JobFailedError'
}

/** The job timed out. */
export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError'
}

/** A job that has not settled after `seconds`: aborts its signal and rejects with a JobTimeoutError. */
export function withDeadline(running: PromiseLike<unknown>, job: RunningJob, seconds: number, displayName: string, logger: Logger): Promise<unknown> {
  let timedOut = false
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new JobTimeoutError(`${displayName} timed out after ${seconds} s.`)
      timedOut = true
      job.abort(error)
      reject(error)
    }, seconds * 1000)
    running.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        // A timed-out handler cannot be killed; it is told through the signal, and its eventual
        // rejection is logged rather than left unhandled.
        if (timedOut) logger.warn(`${displayName} failed after its timeout: ${String(error)}`)
        reject(error)
      },
    )
  })
}
