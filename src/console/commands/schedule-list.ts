import cronstrue from 'cronstrue'
import { loadSchedule } from '../../scheduling/schedule-loader.ts'
import type { CommandHandler } from '../command.ts'
import { formatInZone, scheduleClock } from '../schedule-clock.ts'

function human(expression: string): string {
  try {
    return cronstrue.toString(expression, { use24HourTimeFormat: true, verbose: false })
  } catch {
    return expression
  }
}

/** `artisan schedule:list [--json] [--now=]`: each task, its expression in words and its next due time in its time zone. */
const scheduleList: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('schedule:list needs the booted application')
  const now = scheduleClock(options)()
  const schedule = await loadSchedule(app)
  const tasks = schedule.tasks().map((task) => {
    const next = task.nextDue(now)
    return {
      ...task.summary(),
      schedule: human(task.expression),
      nextDue: next?.toISOString() ?? null,
      nextDueLocal: next === null ? null : `${formatInZone(next, task.zoneName)} ${task.zoneName}`,
      withoutOverlapping: task.overlapMinutes !== null,
      onOneServer: task.runsOnOneServer,
    }
  })
  if (options.json === true) {
    output.json(tasks)
    return 0
  }
  if (tasks.length === 0) {
    output.line('No scheduled tasks: add them in app/schedule.ts.')
    return 0
  }
  output.table(
    ['Expression', 'Task', 'Schedule', 'Next due'],
    tasks.map((task) => [task.expression, task.description ? `${task.name} (${task.description})` : task.name, task.schedule, task.nextDueLocal ?? 'never']),
  )
  return 0
}

export default scheduleList
