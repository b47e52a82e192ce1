import type { CommandHandler } from '../command.ts'
import { decimalOption } from '../numeric-option.ts'
import { onDatabase } from '../service-failure.ts'

/** The oldest `--hours` means anything: a little over a century. */
const MAX_HOURS = 1_000_000

/** `artisan queue:flush [--hours=N]`: deletes all failed jobs, or those older than N hours. */
const queueFlush: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('queue:flush needs the booted application')
  const hours = decimalOption(options.hours, '--hours', { min: 0, max: MAX_HOURS })
  const count = await onDatabase(app, app.config.get('queue').failed.database, async () => (await app.make('queue').failedJobs()).flush(hours))
  output.line(hours === undefined ? `Deleted ${count} failed job(s).` : `Deleted ${count} failed job(s) older than ${hours} hour(s).`)
  return 0
}

export default queueFlush
