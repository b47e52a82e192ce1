import { createHash, randomUUID } from 'node:crypto'
import { errorMessage } from '../foundation/error-message.ts'
import type { Logger } from '../foundation/logger.ts'
import type { Job } from '../jobs/job.ts'
import type { LockPlace } from '../jobs/locks/job-locks.ts'
import type { JobPushOptions } from '../queue/queue-manager.ts'
import type { Schedule } from './schedule.ts'
import { startOfMinute, type ScheduledTask } from './scheduled-task.ts'
import { ScheduledTaskFailed, ScheduledTaskFinished, ScheduledTaskSkipped, ScheduledTaskStarting, type SkipReason } from './scheduled-task-events.ts'

/** What the runner needs of the application: narrow, so tests can hand it fakes. */
export interface ScheduleRunnerDependencies {
  /** The application's dispatcher's `dispatch`. */
  readonly dispatch: (event: object) => Promise<unknown>
  /** Queues a job (the Bus). */
  readonly dispatchJob: (job: Job, where: JobPushOptions) => Promise<unknown>
  /** Runs an artisan command to its end. */
  readonly runCommand: (command: string, args: readonly string[]) => Promise<void>
  /** Where `withoutOverlapping` and `onOneServer` locks live. */
  readonly locks: () => Promise<LockPlace>
  readonly logger: Logger
}

/** What became of one due task. */
export interface TaskReport {
  readonly name: string
  readonly status: 'DONE' | 'FAIL' | 'SKIP'
  readonly scheduledAt: Date
  readonly ms: number
  readonly error?: string
  readonly reason?: SkipReason
}

/** How long an `onOneServer` claim on a minute is kept: long past the minute, so a slow server cannot take it again. */
const ONE_SERVER_SECONDS = 3600

/**
 * Runs a schedule's tasks: the due ones for a minute (`schedule:run`, each tick of
 * `schedule:work`), or one task now (`schedule:test`). A task that throws is reported and
 * the others still run; every run dispatches ScheduledTaskStarting, then ScheduledTaskFinished or
 * ScheduledTaskFailed, and a due task that does not run ScheduledTaskSkipped.
 */
export class ScheduleRunner {
  constructor(private readonly deps: ScheduleRunnerDependencies) {}

  /** Runs, one after the other, the tasks due in the minute `now` falls in. */
  async runDue(schedule: Schedule, now: Date, onTask?: (report: TaskReport) => void): Promise<TaskReport[]> {
    const minute = startOfMinute(now)
    const reports: TaskReport[] = []
    for (const task of schedule.dueTasks(minute)) {
      const report = await this.run(task, minute)
      reports.push(report)
      onTask?.(report)
    }
    return reports
  }

  /**
   * Runs `task` for the minute `now` falls in: its filters, its locks, then its action. With
   * `force` (schedule:test) the filters and `onOneServer` are left out: the task runs now.
   */
  async run(task: ScheduledTask, now: Date, options: { readonly force?: boolean } = {}): Promise<TaskReport> {
    const minute = startOfMinute(now)
    const summary = task.summary()
    const skipped = async (reason: SkipReason): Promise<TaskReport> => {
      await this.announce(new ScheduledTaskSkipped(summary, minute, reason))
      return { name: summary.name, status: 'SKIP', scheduledAt: minute, ms: 0, reason }
    }
    const started = performance.now()
    let overlap: { place: LockPlace; key: string; owner: string } | null = null
    try {
      if (options.force !== true) {
        if (!(await this.filtersPass(task, now))) return await skipped('filter')
        if (task.runsOnOneServer && !(await this.claimMinute(task, minute))) return await skipped('another-server')
      }
      if (task.overlapMinutes !== null) {
        const place = await this.deps.locks()
        const key = `${place.prefix}:schedule:${mutexName(task)}`
        const owner = `${process.pid}:${randomUUID()}`
        if (!(await place.store.acquire(key, owner, task.overlapMinutes * 60))) return await skipped('overlapping')
        overlap = { place, key, owner }
      }
    } catch (error) {
      return this.failed(task, minute, toError(error), started)
    }
    await this.announce(new ScheduledTaskStarting(summary, minute))
    try {
      await this.perform(task)
    } catch (error) {
      await this.release(overlap)
      return this.failed(task, minute, toError(error), started)
    }
    await this.release(overlap)
    const ms = performance.now() - started
    await this.announce(new ScheduledTaskFinished(summary, minute, ms))
    return { name: summary.name, status: 'DONE', scheduledAt: minute, ms }
  }

  private async perform(task: ScheduledTask): Promise<void> {
    const action = task.action
    switch (action.kind) {
      case 'job':
        await this.deps.dispatchJob(action.job, { ...(action.queue === undefined ? {} : { queue: action.queue }), ...(action.connection === undefined ? {} : { connection: action.connection }) })
        return
      case 'command':
        return this.deps.runCommand(action.command, action.args)
      case 'call':
        await action.fn()
        return
      case 'event':
        await this.deps.dispatch(action.event)
    }
  }

  private async filtersPass(task: ScheduledTask, now: Date): Promise<boolean> {
    for (const filter of task.filters) {
      if ((await filter.test(now)) !== filter.pass) return false
    }
    return true
  }

  /** Takes this task's lock for `minute`, never released: the first server of the minute wins it. */
  private async claimMinute(task: ScheduledTask, minute: Date): Promise<boolean> {
    const place = await this.deps.locks()
    const stamp = minute.toISOString().slice(0, 16).replace(/\D/g, '')
    return place.store.acquire(`${place.prefix}:schedule:${mutexName(task)}:${stamp}`, `${process.pid}:${randomUUID()}`, ONE_SERVER_SECONDS)
  }

  private async release(lock: { place: LockPlace; key: string; owner: string } | null): Promise<void> {
    if (lock === null) return
    try {
      await lock.place.store.release(lock.key, lock.owner)
    } catch (error) {
      this.deps.logger.warn(`Releasing the overlap lock "${lock.key}" failed (it expires on its own): ${errorMessage(error)}`)
    }
  }

  private async failed(task: ScheduledTask, minute: Date, error: Error, started: number): Promise<TaskReport> {
    const ms = performance.now() - started
    const summary = task.summary()
    this.deps.logger.error(`Scheduled task "${summary.name}" failed: ${error.message}`)
    await this.announce(new ScheduledTaskFailed(summary, minute, error, ms))
    return { name: summary.name, status: 'FAIL', scheduledAt: minute, ms, error: error.message }
  }

  /** Dispatches a scheduler event; a listener that throws is logged, it does not stop the schedule. */
  private async announce(event: object): Promise<void> {
    try {
      await this.deps.dispatch(event)
    } catch (error) {
      this.deps.logger.warn(`A listener of ${event.constructor.name} failed: ${errorMessage(error)}`)
    }
  }
}

/** The key of a task's locks: its name and expression, hashed (Laravel's `mutexName`). */
export function mutexName(task: ScheduledTask): string {
  return createHash('sha1').update(`${task.expression}\n${task.displayName}`).digest('hex')
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(errorMessage(error))
}
