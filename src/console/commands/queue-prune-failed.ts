import type { CommandHandler } from '../command.ts'
import { decimalOption } from '../numeric-option.ts'
import { onDatabase } from '../service-failure.ts'

/** The hours kept when `--hours` is not given, as in Laravel. */
const DEFAULT_HOURS = 24
/** The oldest `--hours` means anything: a little over a century. */
const MAX_HOURS = 1_000_000

/**
 * `artisan queue:prune-failed [--hours=24]`: deletes the failed jobs (failed_jobs, whatever their
 * driver) that failed more than N hours ago, and says how many. For a daily cron; `queue:flush`
 * deletes them all.
 */
const queuePruneFailed: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('queue:prune-failed needs the booted application')
  const hours = decimalOption(options.hours, '--hours', { min: 0, max: MAX_HOURS }) ?? DEFAULT_HOURS
  const count = await onDatabase(app, app.config.get('queue').failed.database, async () => (await app.make('queue').failedJobs()).flush(hours))
  output.line(`Pruned ${count} failed job(s) older than ${hours} hour(s).`)
  return 0
}

export default queuePruneFailed
