import type { JobEnvelope } from './envelope.ts'

/** A job as pushed, as `Queue.fake()` records it. */
export interface PushedJob {
  readonly connection: string
  readonly queue: string
  readonly delay: number
  readonly envelope: JobEnvelope
  /** The listener class (job 'listener') or the event class (jobs 'event' and 'broadcast'), or the job class (job 'job'). */
  readonly target: unknown
  readonly event: unknown
}

/** Where a job class's job goes, as its pending dispatch set it (over the job's own options). */
export interface JobPushOptions {
  readonly connection?: string
  readonly queue?: string
  /** Seconds from now, or a Date to run at. */
  readonly delay?: number | Date
  /** True: held until the transaction commits; false: pushed at once even inside one. */
  readonly afterCommit?: boolean
}

/** Installed by `Queue.fake()`: takes pushes instead of the drivers. */
export interface PushInterceptor {
  record(job: PushedJob): void
}
