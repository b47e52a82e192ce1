import { randomUUID } from 'node:crypto'
import type { Logger } from '../foundation/logger.ts'
import { errorMessage } from '../foundation/error-message.ts'
import type { JobEnvelope } from '../queue/envelope.ts'
import type { JobPlace } from '../queue/job-runtime.ts'
import type { JobPushOptions, QueueManager } from '../queue/queue-manager.ts'
import { resolveEventQueueOptions } from '../queue/queue-options.ts'
import type { JobExtension } from './job-dispatcher.ts'
import { jobNameOf, type Job } from './job.ts'
import { JOB_LOCKS, type JobLocks } from './locks/job-locks.ts'
import { isShouldBeUnique, isShouldBeUniqueUntilProcessing, uniqueForOf, uniqueIdOf } from './unique.ts'

/** What a unique job's envelope carries under `bus.unique`: its lock, to release it on the worker. */
interface UniqueLock {
  readonly key: string
  readonly owner: string
  /** The queue connection whose store holds it. */
  readonly connection: string
  readonly untilProcessing: boolean
}

export interface UniqueJobsDependencies {
  readonly queue: () => QueueManager
  readonly locks: JobLocks
  readonly logger: () => Logger
}

/**
 * Unique jobs, as a JobExtension: at dispatch, takes the job's lock (a second dispatch while it
 * is held is dropped); on the worker, releases it when the job starts (until-processing), when
 * it succeeds, or when it fails for good. A release or a retry keeps it. The lock's owner is a
 * token of this dispatch, so a job whose lock ran out (`uniqueFor`) never releases the lock of
 * the dispatch that took it next.
 */
export class UniqueJobs implements JobExtension {
  constructor(private readonly deps: UniqueJobsDependencies) {}

  async pushing(job: Job, bus: Record<string, unknown>, where: JobPushOptions): Promise<boolean> {
    if (!isShouldBeUnique(job)) return true
    const name = jobNameOf(job.constructor)
    const id = uniqueIdOf(job, name)
    const seconds = uniqueForOf(job, name)
    const connection = where.connection ?? resolveEventQueueOptions(job).connection(job) ?? this.deps.queue().defaultConnection
    const place = this.deps.locks.faked() ?? (await this.deps.locks.forConnection(connection))
    const key = `${place.prefix}:unique:${name}${id === '' ? '' : `:${id}`}`
    const owner = randomUUID()
    if (!(await place.store.acquire(key, owner, seconds))) {
      this.deps.logger().debug(`${name} was not queued: the same job is still pending (unique lock "${key}" is held).`)
      return false
    }
    const lock: UniqueLock = { key, owner, connection, untilProcessing: isShouldBeUniqueUntilProcessing(job) }
    bus.unique = lock
    return true
  }

  /** The push failed: the lock this dispatch took goes at once, or a job that was never queued would block the next dispatch. */
  async pushFailed(job: Job, bus: Record<string, unknown>): Promise<void> {
    const lock = lockOf({ bus } as Pick<JobEnvelope, 'bus'>)
    if (lock !== null) await this.release(lock, jobNameOf(job.constructor))
  }

  starting(job: Job, envelope: JobEnvelope): Promise<void> | undefined {
    ;(job as unknown as Record<symbol, unknown>)[JOB_LOCKS] = this.deps.locks
    const lock = lockOf(envelope)
    return lock?.untilProcessing ? this.release(lock, envelope.displayName) : undefined
  }

  succeeded(_job: Job, envelope: JobEnvelope): Promise<void> | undefined {
    const lock = lockOf(envelope)
    return lock !== null && !lock.untilProcessing ? this.release(lock, envelope.displayName) : undefined
  }

  async failed(_job: Job | null, envelope: JobEnvelope, _error: unknown, _place: JobPlace): Promise<void> {
    const lock = lockOf(envelope)
    if (lock !== null) await this.release(lock, envelope.displayName)
  }

  /** Releases the lock if this dispatch still owns it; a failure is logged (the lock then lasts its uniqueFor). */
  private async release(lock: UniqueLock, job: string): Promise<void> {
    try {
      const { store } = await this.deps.locks.forConnection(lock.connection)
      await store.release(lock.key, lock.owner)
    } catch (error) {
      this.deps.logger().error(`Could not release the unique lock "${lock.key}" of ${job}: ${errorMessage(error)}`)
    }
  }
}

/** The envelope's unique lock, or null (not a unique job, or a malformed field, which is ignored). */
function lockOf(envelope: Pick<JobEnvelope, 'bus'>): UniqueLock | null {
  const lock = envelope.bus?.unique as Partial<UniqueLock> | undefined
  if (lock === undefined || lock === null || typeof lock !== 'object') return null
  if (typeof lock.key !== 'string' || typeof lock.owner !== 'string' || typeof lock.connection !== 'string') return null
  return { key: lock.key, owner: lock.owner, connection: lock.connection, untilProcessing: lock.untilProcessing === true }
}
