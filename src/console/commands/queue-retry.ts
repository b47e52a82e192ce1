import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'

/**
 * `artisan queue:retry <id...|all>`: pushes failed jobs back on their connection and queue,
 * with their attempts reset, and removes them from failed_jobs.
 */
const queueRetry: CommandHandler = async ({ app, args, output }) => {
  if (!app) throw new Error('queue:retry needs the booted application')
  const ids = (args[0] ?? '').split(/[\s,]+/).filter(Boolean)
  if (ids.length === 0) throw new UserError('Name the failed jobs to retry: queue:retry 5, queue:retry 5,7 or queue:retry all.')
  const manager = app.make('queue')
  const store = await manager.failedJobs()
  const jobs = ids.includes('all') ? await store.all() : await Promise.all(ids.map((id) => store.find(id)))
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
