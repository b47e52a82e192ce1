import { Cron } from 'croner'
import { UserError } from '../foundation/errors.ts'
import type { Job } from '../jobs/job.ts'
import { ManagesFrequencies, parseTime } from './frequencies.ts'

/** What a task does when it runs. */
export type TaskAction =
  | { readonly kind: 'job'; readonly job: Job; readonly queue?: string; readonly connection?: string }
  | { readonly kind: 'command'; readonly command: string; readonly args: readonly string[] }
  | { readonly kind: 'call'; readonly fn: () => unknown }
  | { readonly kind: 'event'; readonly event: object }

/** A filter (`when`, `skip`), asked when the task is due, with the scheduler's time. */
export type TaskFilter = (now: Date) => boolean | Promise<boolean>

/** A task as plain data: what the scheduler's events and `schedule:list --json` carry. */
export interface TaskSummary {
  readonly name: string
  readonly kind: TaskAction['kind']
  readonly expression: string
  readonly timezone: string
  readonly description: string | null
}

/** The start of the minute `date` falls in. */
export function startOfMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000)
}

function checkTimezone(timezone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
  } catch {
    throw new UserError(`timezone("${timezone}"): not a time zone: use an IANA name such as "Europe/Berlin" or "UTC".`)
  }
  return timezone
}

/** Minutes since midnight of `date` in `timezone`. */
function minuteOfDay(date: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(date)
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0)
  return get('hour') * 60 + get('minute')
}

/**
 * One entry of the schedule: what it runs (a job, an artisan command, a function, an event),
 * when (a cron expression the frequency helpers write, read in the task's time zone), and under
 * which conditions (`when`, `skip`, `withoutOverlapping`, `onOneServer`).
 *
 * ```ts
 * Schedule.command('digest:send --dry-run').weekdays().dailyAt('08:00').timezone('Europe/Berlin').onOneServer()
 * ```
 */
export class ScheduledTask extends ManagesFrequencies {
  private zone = 'UTC'
  private taskName: string | null = null
  private text: string | null = null
  private cronCache: { expression: string; zone: string; cron: Cron } | null = null
  /** The filters, all of which must pass (a `skip` is stored negated). */
  readonly filters: Array<{ readonly test: TaskFilter; readonly pass: boolean }> = []
  /** Minutes the overlap lock lasts at most; null when the task may overlap. */
  overlapMinutes: number | null = null
  runsOnOneServer = false

  constructor(readonly action: TaskAction) {
    super()
  }

  /** Reads the expression in this IANA time zone (default UTC), DST included. */
  timezone(timezone: string): this {
    this.zone = checkTimezone(timezone)
    return this
  }

  /** The task's name: what `schedule:list` shows, `schedule:test --name` picks, and its locks are keyed by. */
  name(name: string): this {
    if (typeof name !== 'string' || name.trim() === '') throw new UserError('name() needs a non-empty name.')
    this.taskName = name.trim()
    return this
  }

  /** A sentence on what the task is for (shown by `schedule:list`). */
  description(text: string): this {
    this.text = text
    return this
  }

  /** Runs only when `test` returns true (asked each time the task is due). */
  when(test: TaskFilter | boolean): this {
    this.filters.push({ test: typeof test === 'boolean' ? () => test : test, pass: true })
    return this
  }

  /** Skips the run when `test` returns true. */
  skip(test: TaskFilter | boolean): this {
    this.filters.push({ test: typeof test === 'boolean' ? () => test : test, pass: false })
    return this
  }

  /** Runs only between `start` and `end` (`hh:mm`, in the task's time zone; may wrap midnight). */
  between(start: string, end: string): this {
    const inside = this.window(start, end, 'between')
    return this.when(inside)
  }

  /** Skips the runs between `start` and `end` (`hh:mm`, in the task's time zone). */
  unlessBetween(start: string, end: string): this {
    const inside = this.window(start, end, 'unlessBetween')
    return this.skip(inside)
  }

  /**
   * Skips a run while the previous one is still going, on any server sharing the lock store.
   * The lock expires after `minutes` (default 1440) should a run die holding it.
   */
  withoutOverlapping(minutes = 1440): this {
    if (!(Number.isFinite(minutes) && minutes > 0)) throw new UserError(`withoutOverlapping(minutes) needs a number of minutes above 0, got ${String(minutes)}.`)
    this.overlapMinutes = minutes
    return this
  }

  /** Runs on one server per due minute, however many run the scheduler (a lock in Redis or the database). */
  onOneServer(): this {
    this.runsOnOneServer = true
    return this
  }

  /** The name given, or one made from what it runs. */
  get displayName(): string {
    if (this.taskName !== null) return this.taskName
    switch (this.action.kind) {
      case 'job': return this.action.job.constructor.name
      case 'event': return this.action.event.constructor.name
      case 'command': return [this.action.command, ...this.action.args].join(' ')
      case 'call': return this.action.fn.name ? `${this.action.fn.name}()` : 'Closure'
    }
  }

  /** True when the task was given a name, or runs something that names it (not an anonymous function). */
  get hasStableName(): boolean {
    return this.taskName !== null || this.action.kind !== 'call' || this.action.fn.name !== ''
  }

  get zoneName(): string {
    return this.zone
  }

  get descriptionText(): string | null {
    return this.text
  }

  /** True when the expression matches the minute `now` falls in, in the task's time zone. */
  isDue(now: Date): boolean {
    const minute = startOfMinute(now)
    // The next run after the previous second: a fixed time lost to a DST jump runs just after the gap.
    return this.cronJob().nextRun(new Date(minute.getTime() - 1000))?.getTime() === minute.getTime()
  }

  /** The next minute after `now` the task is due, or null when never again. */
  nextDue(now: Date): Date | null {
    return this.cronJob().nextRun(startOfMinute(now))
  }

  /** Throws a UserError naming the task when its expression is not one croner reads. */
  validate(): void {
    this.cronJob()
  }

  summary(): TaskSummary {
    return { name: this.displayName, kind: this.action.kind, expression: this.expression, timezone: this.zone, description: this.text }
  }

  private cronJob(): Cron {
    const cached = this.cronCache
    if (cached !== null && cached.expression === this.expression && cached.zone === this.zone) return cached.cron
    let cron: Cron
    try {
      cron = new Cron(this.expression, { timezone: this.zone, paused: true, mode: '5-part' })
    } catch (error) {
      throw new UserError(`The schedule of "${this.displayName}" is not a cron expression ("${this.expression}"): ${error instanceof Error ? error.message : String(error)}`)
    }
    this.cronCache = { expression: this.expression, zone: this.zone, cron }
    return cron
  }

  private window(start: string, end: string, what: string): (now: Date) => boolean {
    const [sh, sm] = parseTime(start, what)
    const [eh, em] = parseTime(end, what)
    const from = sh * 60 + sm
    const to = eh * 60 + em
    return (now) => {
      const at = minuteOfDay(now, this.zone)
      return from <= to ? at >= from && at <= to : at >= from || at <= to
    }
  }
}
