import type { Job } from '../../jobs/job.ts'
import type { Schedule as ScheduleInstance } from '../../scheduling/schedule.ts'
import { scheduleFor } from '../../scheduling/schedule-loader.ts'
import type { ScheduledTask } from '../../scheduling/scheduled-task.ts'
import { facadeRoot } from '../application-root.ts'

function schedule(): ScheduleInstance {
  return scheduleFor(facadeRoot())
}

/**
 * The `Schedule` facade: the schedule of the application behind the facades, for top-level
 * calls in app/schedule.ts (a default export `(schedule) => { … }` works for any application).
 *
 * ```ts
 * Schedule.job(new PruneCarts()).hourly()
 * Schedule.command('digest:send --dry-run').dailyAt('08:00').timezone('Europe/Berlin')
 * ```
 */
/** The schedule an app/schedule.ts default export receives: `(schedule: Schedule) => { … }`. */
export type Schedule = ScheduleInstance

export const Schedule = {
  /** Queues `job` each time the task is due. */
  job(job: Job, queue?: string, connection?: string): ScheduledTask {
    return schedule().job(job, queue, connection)
  },
  /** Runs `artisan <line>` as a child process. */
  command(line: string, args: readonly string[] = []): ScheduledTask {
    return schedule().command(line, args)
  },
  /** Calls `fn` in the scheduler's process. */
  call(fn: () => unknown): ScheduledTask {
    return schedule().call(fn)
  },
  /** Dispatches `event` through the application's dispatcher. */
  event(event: object): ScheduledTask {
    return schedule().event(event)
  },
  /** The tasks of the schedule. */
  tasks(): readonly ScheduledTask[] {
    return schedule().tasks()
  },
}
