import type { Job, Worker } from 'bullmq'
import type { Logger } from '../../foundation/logger.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/** A job this process holds: BullMQ's job, the lock token it was fetched with, its queue's Worker. */
export interface Held {
  readonly job: Job<unknown>
  readonly token: string
  readonly worker: Worker
}

/**
 * Renews the locks of the jobs in hand, one `extendJobLocks` call per queue, so that a job
 * running for longer than the lock is never taken for a stalled one. A renewal still waiting
 * on Redis (an outage) is not doubled up by the next tick.
 */
export class LockRenewer {
  private renewing = false

  constructor(
    private readonly held: ReadonlySet<Held>,
    private readonly lockDuration: number,
    private readonly logger: Logger,
  ) {}

  async renewAll(): Promise<void> {
    if (this.renewing) return
    this.renewing = true
    try {
      const byWorker = new Map<Worker, Held[]>()
      for (const held of this.held) byWorker.set(held.worker, [...(byWorker.get(held.worker) ?? []), held])
      for (const [worker, jobs] of byWorker) await this.renew(worker, jobs)
    } finally {
      this.renewing = false
    }
  }

  private async renew(worker: Worker, jobs: Held[]): Promise<void> {
    try {
      const failed = await worker.extendJobLocks(
        jobs.map((held) => held.job.id!),
        jobs.map((held) => held.token),
        this.lockDuration,
      )
      // A job settled meanwhile has no lock to extend: only those still in hand are lost.
      const lost = failed.filter((id) => jobs.some((held) => held.job.id === id && this.held.has(held)))
      if (lost.length > 0) {
        this.logger.warn(
          `Lost the lock of job(s) ${lost.join(', ')} on queue "${worker.name}" (the process was blocked longer than the lock lasts?): another worker may run them too.`,
        )
      }
    } catch (error) {
      this.logger.error(`Renewing BullMQ job locks on queue "${worker.name}" failed: ${errorMessage(error)}`)
    }
  }
}
