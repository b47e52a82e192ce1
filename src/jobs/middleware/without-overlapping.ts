import { randomUUID } from 'node:crypto'
import { JOB_CONTEXT } from '../../events/contracts.ts'
import { jobNameOf, type Job } from '../job.ts'
import { jobLocksOf } from '../locks/job-locks.ts'
import { checkTtl } from '../locks/lock-store.ts'

/**
 * Laravel's `WithoutOverlapping` job middleware: jobs with the same key never run at the same
 * time, on any worker of any machine. The job takes the key's lock (in the store of its queue
 * connection: Redis for bullmq, the `cache_locks` table otherwise) around its run; when another
 * job holds it, this one is released back onto the queue to try again after `releaseAfter`
 * seconds (default 0; the release counts as an attempt, so give the job `tries` or
 * `retryUntil`), or deleted with `dontRelease()`.
 *
 * ```ts
 * middleware() {
 *   return [new WithoutOverlapping(`user-${this.userId}`).releaseAfter(10).expireAfter(180)]
 * }
 * ```
 */
export class WithoutOverlapping {
  private releaseSeconds: number | null = 0
  private expireSeconds = 0
  private sharedKey = false
  private readonly key: string

  /** `key`: what may not overlap (`user-7`); '' locks the job class as a whole. */
  constructor(key: string | number = '') {
    if (typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) {
      throw new TypeError(`WithoutOverlapping's key must be a string or a number, got ${JSON.stringify(key) ?? String(key)}.`)
    }
    this.key = String(key)
  }

  /** Seconds before a job that found the lock taken runs again (default 0). */
  releaseAfter(seconds: number): this {
    this.releaseSeconds = checkSeconds(seconds, 'WithoutOverlapping.releaseAfter(seconds)')
    return this
  }

  /** A job that found the lock taken is deleted (not failed, not retried) instead of released. */
  dontRelease(): this {
    this.releaseSeconds = null
    return this
  }

  /**
   * Seconds the lock lasts at most: the safeguard should a worker die holding it. Default 0:
   * until the job finishes (a worker killed mid-job then keeps its jobs' key locked).
   */
  expireAfter(seconds: number): this {
    this.expireSeconds = checkTtl(seconds, 'WithoutOverlapping.expireAfter(seconds)')
    return this
  }

  /** The key is shared by every job class using it, not one lock per class (Laravel's `shared()`). */
  shared(): this {
    this.sharedKey = true
    return this
  }

  async handle(job: Job, next: () => Promise<unknown>): Promise<unknown> {
    const context = (job as unknown as Record<symbol, { readonly connection?: unknown } | undefined>)[JOB_CONTEXT]
    const connection = typeof context?.connection === 'string' ? context.connection : 'sync'
    const { store, prefix } = await jobLocksOf(job).forConnection(connection)
    const key = `${prefix}:overlap:${this.sharedKey ? '' : `${jobNameOf(job.constructor)}:`}${this.key}`
    const owner = randomUUID()
    if (!(await store.acquire(key, owner, this.expireSeconds))) {
      if (this.releaseSeconds !== null) job.release(this.releaseSeconds)
      return undefined
    }
    try {
      return await next()
    } finally {
      await store.release(key, owner)
    }
  }
}

function checkSeconds(seconds: number, what: string): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new TypeError(`${what} must be a number of seconds, 0 or more, got ${String(seconds)}.`)
  }
  return seconds
}
