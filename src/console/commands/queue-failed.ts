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
  const header = ['ID', 'Connection', 'Queue', 'Class', 'Failed At']
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const format = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()
  output.line(output.paint(format(header), 'yellow'))
  for (const row of rows) output.line(format(row))
  return 0
}

export default queueFailed
