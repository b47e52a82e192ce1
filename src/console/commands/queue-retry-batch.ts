import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import { quoteInput } from '../quote-input.ts'
import { onDatabase } from '../service-failure.ts'

/** Batch ids are uuids; the column holds 64 characters. */
const MAX_ID = 64

/**
 * `artisan queue:retry-batch <id>`: pushes the batch's failed jobs back from failed_jobs onto
 * their connection and queue (each removed from failed_jobs); their success finishes the batch.
 */
const queueRetryBatch: CommandHandler = async ({ app, args, output }) => {
  if (!app) throw new Error('queue:retry-batch needs the booted application')
  const id = (args[0] ?? '').trim()
  if (id === '') throw new UserError('Name the batch whose failed jobs to retry: queue:retry-batch <batch id>.')
  if (id.length > MAX_ID || !/^[\w-]+$/.test(id)) throw new UserError(`${quoteInput(id)} is not a batch id (letters, digits, - and _, at most ${MAX_ID}).`)
  const pushed = await onDatabase(app, app.config.get('queue').failed.database, () => app.make('bus.workflows').retryBatch(id))
  if (pushed === null) throw new UserError(`No job batch with id ${id}.`)
  output.line(`Pushed ${pushed} failed job(s) of batch ${id} back onto their queues.`)
  return 0
}

export default queueRetryBatch
