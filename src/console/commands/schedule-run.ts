import { loadSchedule, scheduleRunner } from '../../scheduling/schedule-loader.ts'
import { startOfMinute } from '../../scheduling/scheduled-task.ts'
import type { CommandHandler } from '../command.ts'
import { scheduleClock, taskLine } from '../schedule-clock.ts'

/**
 * `artisan schedule:run [--now=]`: runs the tasks due in this minute, one after the other, then
 * exits; for a system cron line `* * * * * cd /app && node bin/artisan schedule:run`. A failing
 * task is reported and the others still run; the exit code stays 0 (its failure is in the output
 * and in ScheduledTaskFailed).
 */
const scheduleRun: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('schedule:run needs the booted application')
  const now = scheduleClock(options)()
  const schedule = await loadSchedule(app)
  const reports = await scheduleRunner(app).runDue(schedule, now, (report) => output.line(taskLine(report, output)))
  if (reports.length === 0) output.line(`  No scheduled tasks are due at ${startOfMinute(now).toISOString().replace('T', ' ').slice(0, 16)} UTC.`)
  return 0
}

export default scheduleRun
