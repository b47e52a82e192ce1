import { errorMessage } from '../foundation/error-message.ts'
import type { Logger } from '../foundation/logger.ts'
import type { Schedule } from './schedule.ts'
import type { ScheduleRunner, TaskReport } from './schedule-runner.ts'
import { startOfMinute } from './scheduled-task.ts'

export interface ScheduleWorkerOptions {
  /** The scheduler's clock (default: the system's); tests and `--now` drive it. */
  readonly now?: () => Date
  /**
   * When the clock was started (default: when `run()` is called): the first minute to run is the
   * one after it, so a slow start (loading app/schedule.ts) does not skip the minute it crossed.
   */
  readonly startedAt?: Date
  readonly onTask?: (report: TaskReport) => void
  readonly logger: Logger
}

/**
 * `schedule:work`'s loop: at the start of every minute of its clock it runs that minute's due
 * tasks. A minute's tasks run while the clock goes on, so a long task does not make the next
 * minute late; `stop()` lets the running ones finish and then `run()` resolves.
 */
export class ScheduleWorker {
  private readonly now: () => Date
  private readonly running = new Set<Promise<void>>()
  private stopping: (() => void) | null = null
  private stopped = false
  private timer: NodeJS.Timeout | null = null
  private minutes = 0

  constructor(
    private readonly schedule: Schedule,
    private readonly runner: ScheduleRunner,
    private readonly options: ScheduleWorkerOptions,
  ) {
    this.now = options.now ?? (() => new Date())
  }

  /** Runs until `stop()`; resolves to the number of minutes it ran tasks for, once its tasks in hand have finished. */
  async run(): Promise<number> {
    let last = startOfMinute(this.options.startedAt ?? this.now()).getTime()
    while (!this.stopped) {
      await this.untilNextMinute(last)
      if (this.stopped) break
      const minute = startOfMinute(this.now()).getTime()
      if (minute <= last) continue
      last = minute
      this.tick(new Date(minute))
    }
    await Promise.all([...this.running])
    return this.minutes
  }

  /** Stops taking minutes; `run()` resolves once the tasks in hand have finished. Idempotent. */
  stop(): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.stopping?.()
  }

  private tick(minute: Date): void {
    this.minutes++
    const done: Promise<void> = this.runner
      .runDue(this.schedule, minute, this.options.onTask)
      .then(() => undefined)
      .catch((error: unknown) => this.options.logger.error(`The schedule's minute ${minute.toISOString()} failed: ${errorMessage(error)}`))
      .finally(() => this.running.delete(done))
    this.running.add(done)
  }

  private untilNextMinute(last: number): Promise<void> {
    const wait = Math.max(0, last + 60_000 - this.now().getTime())
    return new Promise((resolve) => {
      this.stopping = resolve
      this.timer = setTimeout(() => {
        this.timer = null
        this.stopping = null
        resolve()
      }, wait)
    })
  }
}
