import { UserError } from '../foundation/errors.ts'
import { isJob, type Job } from '../jobs/job.ts'
import { ScheduledTask } from './scheduled-task.ts'

/** Splits `digest:send --to="a b" --dry-run` into words; quotes group, backslash escapes. */
export function commandWords(line: string): string[] {
  const words: string[] = []
  let word = ''
  let quote: string | null = null
  let started = false
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!
    if (char === '\\' && i + 1 < line.length) {
      word += line[++i]
      started = true
    } else if (quote !== null) {
      if (char === quote) quote = null
      else word += char
    } else if (char === '"' || char === "'") {
      quote = char
      started = true
    } else if (/\s/.test(char)) {
      if (started) words.push(word)
      word = ''
      started = false
    } else {
      word += char
      started = true
    }
  }
  if (quote !== null) throw new UserError(`Schedule.command("${line}"): a quote is not closed.`)
  if (started) words.push(word)
  return words
}

/**
 * The application's schedule (Laravel's `Schedule`), written in app/schedule.ts. Each method
 * adds a task and returns it, for its frequency and conditions.
 *
 * ```ts
 * export default (schedule: Schedule) => {
 *   schedule.job(new PruneCarts()).hourly()
 *   schedule.command('digest:send --dry-run').dailyAt('08:00').timezone('Europe/Berlin')
 *   schedule.call(() => cleanTmp()).everyFiveMinutes().name('clean-tmp')
 *   schedule.event(new Heartbeat()).everyMinute()
 * }
 * ```
 */
export class Schedule {
  private readonly list: ScheduledTask[] = []

  /** Queues `job` (through the Bus) each time the task is due; on `queue`/`connection` when given. */
  job(job: Job, queue?: string, connection?: string): ScheduledTask {
    if (!isJob(job)) throw new UserError('Schedule.job() needs a job instance: Schedule.job(new PruneCarts()).')
    return this.add(new ScheduledTask({ kind: 'job', job, ...(queue === undefined ? {} : { queue }), ...(connection === undefined ? {} : { connection }) }))
  }

  /** Runs the artisan command `line` (`'digest:send --dry-run'`, or the name and its arguments) as a child process. */
  command(line: string, args: readonly string[] = []): ScheduledTask {
    const words = [...commandWords(String(line)), ...args.map(String)]
    const [command, ...rest] = words
    if (command === undefined) throw new UserError('Schedule.command() needs a command: Schedule.command("queue:prune-failed --hours=48").')
    return this.add(new ScheduledTask({ kind: 'command', command, args: rest }))
  }

  /** Calls `fn` (awaited) in the scheduler's process. */
  call(fn: () => unknown): ScheduledTask {
    if (typeof fn !== 'function') throw new UserError('Schedule.call() needs a function: Schedule.call(() => cleanTmp()).')
    return this.add(new ScheduledTask({ kind: 'call', fn }))
  }

  /** Dispatches `event` through the application's dispatcher. */
  event(event: object): ScheduledTask {
    if (event === null || typeof event !== 'object') throw new UserError('Schedule.event() needs an event instance: Schedule.event(new Heartbeat()).')
    return this.add(new ScheduledTask({ kind: 'event', event }))
  }

  /** The tasks, in the order they were added. */
  tasks(): readonly ScheduledTask[] {
    return this.list
  }

  /** The tasks due in the minute `now` falls in (before their `when`/`skip` filters). */
  dueTasks(now: Date): ScheduledTask[] {
    return this.list.filter((task) => task.isDue(now))
  }

  /** Forgets every task (for tests that build several schedules on one application). */
  clear(): void {
    this.list.length = 0
  }

  private add(task: ScheduledTask): ScheduledTask {
    this.list.push(task)
    return task
  }
}
