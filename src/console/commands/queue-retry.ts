import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import { parseFailedJobId } from '../failed-job-ids.ts'
import { onDatabase } from '../service-failure.ts'

/** Each id is a query of its own: more in one call is a slip (or use `all`). */
const MAX_IDS = 1000

/**
 * `artisan queue:retry <id...|all>`: pushes failed jobs back on their connection and queue,
 * with their attempts reset, and removes them from failed_jobs.
 */
const queueRetry: CommandHandler = async ({ app, args, output }) => {
  if (!app) throw new Error('queue:retry needs the booted application')
  const ids = (args[0] ?? '').split(/[\s,]+/).filter(Boolean).map((id) => (id === 'all' ? id : parseFailedJobId(id)))
  if (ids.length === 0) throw new UserError('Name the failed jobs to retry: queue:retry 5, queue:retry 5,7 or queue:retry all.')
  if (ids.length > MAX_IDS) throw new UserError(`queue:retry takes at most ${MAX_IDS} ids at once (got ${ids.length}); or retry them all with queue:retry all.`)
  const manager = app.make('queue')
  const store = await manager.failedJobs()
  const jobs = await onDatabase(app, app.config.get('queue').failed.database, () =>
    ids.includes('all') ? store.all() : Promise.all(ids.map((id) => store.find(id))),
  )
  let missing = 0
  for (const [index, job] of jobs.entries()) {
    if (job === null) {
      output.error(`No failed job with id ${ids[index]}.`)
      missing++
      continue
    }
    await manager.retryFailedJob(job)
    output.line(`Pushed failed job ${job.id} back onto ${job.connection}:${job.queue}.`)
  }
  return missing > 0 ? 1 : 0
}

export default queueRetry
