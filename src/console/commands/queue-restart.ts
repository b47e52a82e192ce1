import { queueRestartSignal } from '../../queue/restart-signal.ts'
import type { CommandHandler } from '../command.ts'
import { onDatabase } from '../service-failure.ts'

/**
 * `artisan queue:restart`: tells every running `queue:work` (and `serve`'s worker), on every host
 * sharing the database, to finish its jobs in hand and exit 0, so a process manager starts them
 * again on the newly deployed code. It writes the time to the `queue_signals` table of the
 * failed jobs' database connection, which the workers poll every few seconds: it works the same
 * for the database and bullmq drivers.
 */
const queueRestart: CommandHandler = async ({ app, output }) => {
  if (!app) throw new Error('queue:restart needs the booted application')
  const at = await onDatabase(app, app.config.get('queue').failed.database, () => queueRestartSignal(app).restart())
  output.line(`Broadcast the queue restart signal (${new Date(at).toISOString()}): workers exit after their jobs in hand.`)
  return 0
}

export default queueRestart
