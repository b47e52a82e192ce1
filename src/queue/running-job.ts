import { JOB_CONTEXT, type JobContext } from '../events/contracts.ts'
import { isThenable } from '../foundation/promises.ts'

/**
 * A queued event's job while a worker dispatches the event: its queued listeners run inside it,
 * so the event takes one trip through the queue, not one for itself and one per listener.
 */
export interface QueuedEventJob {
  /** Where the job came from: a listener bound elsewhere is queued there as usual. */
  readonly connection: string
  readonly queue: string
  /**
   * Runs a queued listener in this job: a fresh instance whose attempts(), release(), fail() and
   * signal are the job's (its timeout and tries are the event's). If it throws, the job's
   * attempt fails, even when an `onError` handler took the error, and its failed() is called
   * should the job fail for good.
   */
  runListener(listener: Function, method: string, event: unknown): unknown
}

/**
 * The job a listener is running, as `this.attempts()`, `release()`, `fail()` and `signal` see
 * it (and, for a queued event, the job its queued listeners run in): one object per job with
 * its methods on the prototype, no closures made per job.
 */
export class RunningJob implements JobContext, QueuedEventJob {
  released: number | null = null
  /**
   * False when the release is not an attempt (`releaseUncounted`): the next delivery has the
   * same attempts() number, and `tries` is not used up.
   */
  releaseCounts = true
  failed: { error: unknown } | null = null
  /** What the listeners run in a queued event's job threw, and their failed() hooks; null while none has. */
  listenerFailures: Array<{ readonly error: unknown; readonly failed: (() => unknown) | null }> | null = null
  private controller: AbortController | null = null
  /** Why the signal aborts before anyone has read it (the timeout's error); null while running. */
  private abortReason: { reason: unknown } | null = null
  private finished = false

  constructor(
    private readonly attempt: number,
    private readonly shutdown: AbortSignal,
    readonly connection: string,
    readonly queue: string,
  ) {}

  runListener(listener: Function, method: string, event: unknown): unknown {
    const instance = new (listener as new () => Record<string | symbol, unknown>)()
    const handle = instance[method]
    if (typeof handle !== 'function') throw new TypeError(`Listener "${listener.name}" has no ${method}() method.`)
    instance[JOB_CONTEXT] = this
    const failed = instance.failed
    const record = (error: unknown): never => {
      const hook = typeof failed === 'function' ? () => (failed as (e: unknown, r: unknown) => unknown).call(instance, event, error) : null
      ;(this.listenerFailures ??= []).push({ error, failed: hook })
      throw error
    }
    try {
      const result = (handle as (event: unknown) => unknown).call(instance, event)
      // Settled to undefined, as a push would: a queued listener neither halts the others nor answers.
      return isThenable(result) ? Promise.resolve(result).then(() => undefined, record) : undefined
    } catch (error) {
      return record(error)
    }
  }

  attempts(): number {
    return this.attempt
  }

  release(delay: number): void {
    this.released = Math.max(0, delay)
    this.releaseCounts = true
  }

  /**
   * Puts the job back without counting this attempt against its `tries` (Laravel's rate-limited
   * release): for middleware that did not let the job run, such as `RateLimited`.
   */
  releaseUncounted(delay: number): void {
    this.released = Math.max(0, delay)
    this.releaseCounts = false
  }

  fail(error: unknown): void {
    this.failed = { error }
  }

  /**
   * Made on first read: most listeners never look at it, and an AbortSignal (an EventTarget)
   * costs more per job than the rest of the pipeline. It aborts on the job's timeout and on the
   * worker's shutdown, whether those came before or after the first read. (Not
   * AbortSignal.any: on Node 20 every combined signal stays attached to the long-lived
   * shutdown signal, and a worker would leak a few KB per job.)
   */
  get signal(): AbortSignal {
    if (this.controller === null) {
      const controller = new AbortController()
      this.controller = controller
      if (this.abortReason !== null) controller.abort(this.abortReason.reason)
      else if (this.shutdown.aborted) controller.abort(this.shutdown.reason)
      else if (!this.finished) this.shutdown.addEventListener('abort', this, { once: true })
    }
    return this.controller.signal
  }

  /** The shutdown signal's listener (an EventListener object, so no closure per job). */
  handleEvent(): void {
    this.controller?.abort(this.shutdown.reason)
  }

  abort(reason: unknown): void {
    this.abortReason ??= { reason }
    this.controller?.abort(reason)
  }

  finish(): void {
    this.finished = true
    if (this.controller !== null) this.shutdown.removeEventListener('abort', this)
  }
}
