import { loadSchedule, scheduleRunner } from '../../scheduling/schedule-loader.ts'
import { ScheduleWorker } from '../../scheduling/schedule-worker.ts'
import type { CommandHandler } from '../command.ts'
import { scheduleClock, taskLine } from '../schedule-clock.ts'

/**
 * `artisan schedule:work [--now=]`: in the foreground, runs the due tasks at the start of every
 * minute. A failing task is reported and the schedule goes on; SIGTERM/SIGINT stop taking
 * minutes, let the running tasks finish, and exit 0.
 */
const scheduleWork: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('schedule:work needs the booted application')
  const now = scheduleClock(options)
  const startedAt = now()
  const schedule = await loadSchedule(app)
  const worker = new ScheduleWorker(schedule, scheduleRunner(app), { now, startedAt, logger: app.logger, onTask: (report) => output.line(taskLine(report, output)) })
  const stop = () => {
    output.line('  Stopping: the running tasks finish first.')
    worker.stop()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  output.line(`  Running the schedule (${schedule.tasks().length} task(s)) at the start of every minute; SIGTERM/SIGINT stop it.`)
  try {
    const minutes = await worker.run()
    output.line(`  Stopped after ${minutes} minute(s) with due tasks checked.`)
  } finally {
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
  }
  return 0
}

export default scheduleWork
