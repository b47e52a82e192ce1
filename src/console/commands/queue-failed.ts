import { jobDisplayName } from '../../queue/envelope.ts'
import type { CommandHandler } from '../command.ts'

/** The Reason column's width: the table stays one line per job; `--json` has the whole stack. */
const REASON_WIDTH = 60

/** The first line of a stored failure (`PayloadDecodeError: payload.total: ...`), cut to the column's width. */
export function failureReason(exception: string): string {
  const first = (exception.split('\n', 1)[0] ?? '').trim()
  return first.length > REASON_WIDTH ? `${first.slice(0, REASON_WIDTH - 3)}...` : first
}

/** `artisan queue:failed`: the failed jobs, newest first, each with its reason's first line. */
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
  const rows = jobs.map((job) => [
    String(job.id),
    job.connection,
    job.queue,
    jobDisplayName(job.payload),
    job.failedAt.toISOString(),
    failureReason(job.exception),
  ])
  output.table(['ID', 'Connection', 'Queue', 'Class', 'Failed At', 'Reason'], rows)
  return 0
}

export default queueFailed
