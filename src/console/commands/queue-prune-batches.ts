import type { CommandHandler } from '../command.ts'
import { decimalOption } from '../numeric-option.ts'
import { onDatabase } from '../service-failure.ts'

/** The oldest `--hours` means anything: a little over a century. */
const MAX_HOURS = 1_000_000

/** `artisan queue:prune-batches [--hours=24]`: deletes the batches that finished more than N hours ago. */
const queuePruneBatches: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('queue:prune-batches needs the booted application')
  const hours = decimalOption(options.hours, '--hours', { min: 0, max: MAX_HOURS }) ?? 24
  const count = await onDatabase(app, app.config.get('queue').failed.database, () => app.make('bus.workflows').pruneBatches(hours))
  output.line(`Deleted ${count} finished batch(es) older than ${hours} hour(s).`)
  return 0
}

export default queuePruneBatches
