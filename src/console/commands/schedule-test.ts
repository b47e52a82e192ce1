import { UserError } from '../../foundation/errors.ts'
import { loadSchedule, scheduleRunner } from '../../scheduling/schedule-loader.ts'
import type { ScheduledTask } from '../../scheduling/scheduled-task.ts'
import type { CommandHandler } from '../command.ts'
import { scheduleClock, taskLine } from '../schedule-clock.ts'

function choose(tasks: readonly ScheduledTask[], name: unknown): ScheduledTask {
  const names = tasks.map((task) => `"${task.displayName}"`).join(', ')
  if (tasks.length === 0) throw new UserError('There are no scheduled tasks: add them in app/schedule.ts.')
  if (name === undefined) {
    if (tasks.length === 1) return tasks[0]!
    throw new UserError(`Choose a task with --name=…: ${names}.`)
  }
  const wanted = String(name).trim().toLowerCase()
  const exact = tasks.filter((task) => task.displayName.toLowerCase() === wanted)
  const found = exact.length > 0 ? exact : tasks.filter((task) => task.displayName.toLowerCase().includes(wanted))
  if (found.length === 1) return found[0]!
  if (found.length === 0) throw new UserError(`No scheduled task is named "${String(name)}": the tasks are ${names}.`)
  throw new UserError(`"${String(name)}" names ${found.length} tasks (${found.map((task) => `"${task.displayName}"`).join(', ')}): give the whole name.`)
}

/**
 * `artisan schedule:test [--name=]`: runs one task now, whatever its schedule and filters (its
 * overlap lock still holds). Exit 1 when it fails.
 */
const scheduleTest: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('schedule:test needs the booted application')
  const now = scheduleClock(options)()
  const schedule = await loadSchedule(app)
  const task = choose(schedule.tasks(), options.name)
  output.line(`  Running ["${task.displayName}"]`)
  const report = await scheduleRunner(app).run(task, now, { force: true })
  output.line(taskLine(report, output))
  if (report.status === 'FAIL') {
    output.error(`Scheduled task "${task.displayName}" failed: ${report.error ?? 'unknown error'}`)
    return 1
  }
  return 0
}

export default scheduleTest
