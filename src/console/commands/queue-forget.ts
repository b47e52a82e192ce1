import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import { parseFailedJobId } from '../failed-job-ids.ts'
import { onDatabase } from '../service-failure.ts'

/** `artisan queue:forget <id>`: deletes one failed job. */
const queueForget: CommandHandler = async ({ app, args, output }) => {
  if (!app) throw new Error('queue:forget needs the booted application')
  if (!args[0]) throw new UserError('Name the failed job to forget: queue:forget 5.')
  const id = parseFailedJobId(args[0])
  const forgotten = await onDatabase(app, app.config.get('queue').failed.database, async () => (await app.make('queue').failedJobs()).forget(id))
  if (!forgotten) throw new UserError(`No failed job with id ${id}.`)
  output.line(`Failed job ${id} deleted.`)
  return 0
}

export default queueForget
