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

/** A scheduled task threw (or its command exited non-zero); the scheduler carries on. */
export class ScheduledTaskFailed {
  constructor(
    readonly task: TaskSummary,
    readonly scheduledAt: Date,
    readonly error: Error,
    readonly runtime: number,
  ) {}
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
