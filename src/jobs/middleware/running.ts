import { JOB_CONTEXT } from '../../events/contracts.ts'
import type { RunningJob } from '../../queue/running-job.ts'

/**
 * The queue's state of the job (or queued listener) a middleware step was given: how it
 * releases it, and its connection. Null outside a worker's run or dispatchSync.
 */
export function runningJobOf(job: object): RunningJob | null {
  const context = (job as Record<symbol, unknown>)[JOB_CONTEXT]
  return context !== null && typeof context === 'object' && typeof (context as Partial<RunningJob>).releaseUncounted === 'function' ? (context as RunningJob) : null
}

/** The name the counts of a job class (or listener class) go under: `static jobName`, else the class name. */
export function classNameOf(job: object): string {
  const ctor = job.constructor as { jobName?: unknown; name: string }
  return Object.hasOwn(ctor, 'jobName') && typeof ctor.jobName === 'string' && ctor.jobName !== '' ? ctor.jobName : ctor.name
}
