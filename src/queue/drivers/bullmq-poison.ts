import { Job, UnrecoverableError, Worker } from 'bullmq'
import type { JobJsonRaw } from 'bullmq'
import type { Logger } from '../../foundation/logger.ts'
import { PayloadDecodeError } from '../../foundation/serializer.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/** Why a fetched job could not be decoded; only jobs made by HeraldBullWorker.createJob are here. */
const undecodable = new WeakMap<Job<unknown>, PayloadDecodeError>()

/**
 * A BullMQ Worker that hands over a job whose hash it cannot decode (`data` or `opts` that are
 * not JSON, written by hand or by a foreign producer) instead of throwing from its fetch.
 * BullMQ's own Worker throws after the job was already moved to active and locked, so the job
 * stalls, is delivered again, and throws again, forever; handed over, it can be quarantined.
 * `createJob` is BullMQ's protected extension point for building a fetched job.
 */
export class HeraldBullWorker extends Worker<unknown> {
  protected override createJob(data: JobJsonRaw, jobId: string): Job<unknown> {
    try {
      return super.createJob(data, jobId)
    } catch (error) {
      const id = data.id || jobId
      const raw = typeof data.data === 'string' ? data.data : ''
      // BullMQ's options are what failed (or the data): the job gets none, and is only ever failed.
      const job = new Job<unknown>(this, data.name || 'job', raw, {}, id)
      undecodable.set(job, new PayloadDecodeError(`BullMQ job "${id}" on queue "${this.name}" cannot be decoded: ${whatFailed(data)} (${errorMessage(error)}).`))
      return job
    }
  }
}

/** The reason a fetched job cannot be decoded, or undefined for a sound job. */
export function undecodableReason(job: Job<unknown>): PayloadDecodeError | undefined {
  return undecodable.get(job)
}

/**
 * A job BullMQ cannot decode never reaches the runner: it goes to failed_jobs with the reason
 * and is failed in BullMQ (with the lock token it was fetched with), so it is not delivered
 * again. It is removed from BullMQ only once failed_jobs holds it; otherwise it stays in
 * BullMQ's failed set, where it is not lost.
 */
export async function quarantine(
  job: Job<unknown>,
  token: string,
  reason: Error,
  context: { readonly logger: Logger; quarantine(queue: string, payload: string, reason: Error): Promise<boolean> },
  warn: (message: string) => void,
): Promise<void> {
  let recorded = false
  try {
    recorded = await context.quarantine(job.queueName, typeof job.data === 'string' ? job.data : '', reason)
  } catch (error) {
    context.logger.error(`Could not record undecodable job ${job.id} in failed_jobs: ${errorMessage(error)}`)
  }
  warn(`${reason.message} ${recorded ? 'Moved to failed_jobs.' : "Kept in BullMQ's failed set."}`)
  job.opts.removeOnFail = recorded
  try {
    await job.moveToFailed(new UnrecoverableError(reason.message), token, false)
  } catch (error) {
    context.logger.error(`Could not fail undecodable job ${job.id} on queue "${job.queueName}" in BullMQ: ${errorMessage(error)}`)
  }
}

function whatFailed(data: JobJsonRaw): string {
  if (!parses(data.data)) return 'its data is not JSON'
  if (!parses(data.opts)) return 'its opts are not JSON'
  return 'its hash is malformed'
}

function parses(text: string | undefined): boolean {
  if (text === undefined || text === '') return true
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
