import { jobDisplayName } from '../../queue/envelope.ts'
import type { CommandHandler } from '../command.ts'

/** `artisan queue:failed`: the failed jobs, newest first. */
const queueFailed: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('queue:failed needs the booted application')
  const jobs = await (await app.make('queue').failedJobs()).all()
  if (options.json === true) {
    output.json(jobs.map(({ payload, ...job }) => ({ ...job, class: jobDisplayName(payload) })))
    return 0
  }
  if (jobs.length === 0) {
    output.line('No failed jobs.')
    return 0
  }
  const rows = jobs.map((job) => [String(job.id), job.connection, job.queue, jobDisplayName(job.payload), job.failedAt.toISOString()])
  output.table(['ID', 'Connection', 'Queue', 'Class', 'Failed At'], rows)
  return 0
}

export default queueFailed
