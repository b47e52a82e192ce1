import type { JobEnvelope } from './envelope.ts'
import type { RunningJob } from './running-job.ts'

/** Where a job is running: its connection and queue. */
export interface JobPlace {
  readonly connection: string
  readonly queue: string
}

/**
 * How a worker runs the envelopes of job classes (job 'job'). The jobs layer (`src/jobs`), a
 * floor above the queue, installs it with `QueueManager.useJobs(...)`; without it such a job
 * fails, naming what is missing.
 */
export interface QueuedJobRuntime {
  /** Runs the decoded job as `state` (its attempts(), release(), fail(), signal): its middleware, then handle(). */
  run(job: object, state: RunningJob, envelope: JobEnvelope, place: JobPlace): unknown
  /**
   * After the job succeeded, before the driver acknowledges it: what follows it (a chain's next
   * job, a batch's count, a unique lock). A rejection releases the job, to run again.
   */
  succeeded(job: object, envelope: JobEnvelope, place: JobPlace): Promise<void> | undefined
  /**
   * After the job failed for good (its failed() called, failed_jobs written): a chain's catch, a
   * batch's count, a unique lock. `job` is null when the payload could not be decoded. What it
   * throws is logged, never the worker's.
   */
  failed(job: object | null, envelope: JobEnvelope, error: unknown, place: JobPlace): Promise<void>
  /**
   * A step of a queued listener's `middleware` given by name (`'throttle:10,1'`: 10 per minute
   * for that listener); throws, naming the mistake, for a name it does not know.
   */
  namedMiddleware?(spec: string, listener: string): unknown
}
