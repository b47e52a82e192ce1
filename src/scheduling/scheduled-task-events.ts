import type { TaskSummary } from './scheduled-task.ts'

/** A scheduled task is about to run (dispatched through the application's dispatcher). */
export class ScheduledTaskStarting {
  constructor(
    readonly task: TaskSummary,
    /** The minute the scheduler ran it for. */
    readonly scheduledAt: Date,
  ) {}
}

/** A scheduled task ran to its end. */
export class ScheduledTaskFinished {
  constructor(
    readonly task: TaskSummary,
    readonly scheduledAt: Date,
    /** How long it ran, in milliseconds. */
    readonly runtime: number,
  ) {}
}

/**
 * A scheduled task threw (or its command exited non-zero); the scheduler carries on. `error` is
 * the thrown Error, for listeners in this process; `message` is its message as plain data, what
 * survives the event store and a queued listener's payload (an Error's fields are not enumerable).
 */
export class ScheduledTaskFailed {
  readonly message: string

  constructor(
    readonly task: TaskSummary,
    readonly scheduledAt: Date,
    readonly error: Error,
    readonly runtime: number,
  ) {
    this.message = error.message
  }
}

/** Why a due task did not run. */
export type SkipReason = 'filter' | 'overlapping' | 'another-server'

/** A due scheduled task did not run: a `when`/`skip` filter, its previous run still going, or another server took it. */
export class ScheduledTaskSkipped {
  constructor(
    readonly task: TaskSummary,
    readonly scheduledAt: Date,
    readonly reason: SkipReason,
  ) {}
}
