import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'

/** `artisan queue:flush [--hours=N]`: deletes all failed jobs, or those older than N hours. */
const queueFlush: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('queue:flush needs the booted application')
  let hours: number | undefined
  if (options.hours !== undefined) {
    hours = Number(options.hours)
    if (!Number.isFinite(hours) || hours < 0) throw new UserError(`--hours must be a number of 0 or more, got "${String(options.hours)}".`)
  }
  const count = await (await app.make('queue').failedJobs()).flush(hours)
  output.line(hours === undefined ? `Deleted ${count} failed job(s).` : `Deleted ${count} failed job(s) older than ${hours} hour(s).`)
  return 0
}

export default queueFlush
