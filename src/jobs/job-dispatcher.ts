import { JOB_CONTEXT } from '../events/contracts.ts'
import type { Logger } from '../foundation/logger.ts'
import { errorMessage } from '../foundation/error-message.ts'
import type { JobEnvelope } from '../queue/envelope.ts'
import type { JobPlace, QueuedJobRuntime } from '../queue/job-runtime.ts'
import type { JobPushOptions, QueueManager } from '../queue/queue-manager.ts'
import { RunningJob } from '../queue/running-job.ts'
import { afterResponse } from './after-response.ts'
import { JOB_ENVELOPE, jobNameOf, type Job } from './job.ts'
import type { JobDispatchTarget } from './pending-dispatch.ts'
import { namedMiddleware } from './middleware/named-middleware.ts'

/**
 * One step of a job's middleware (Laravel's job middleware): call `next()` to run the rest and
 * the job, or do not (the job is skipped, or `job.release(s)` put it back).
 *
 * ```ts
 * const logged: JobMiddleware = async (job, next) => { const t = Date.now(); await next(); log(job, Date.now() - t) }
 * ```
 */
export type JobMiddleware<J extends object = Job> = ((job: J, next: () => Promise<unknown>) => unknown) | { handle(job: J, next: () => Promise<unknown>): unknown }

/**
 * What the jobs layer's features add around a job's life: chains, batches, unique locks. Each
 * keeps its own fields under `bus` in the envelope.
 */
export interface JobExtension {
  /** Before the job is pushed: false drops it (a unique job already queued). May set its fields in `bus`. */
  pushing?(job: Job, bus: Record<string, unknown>, where: JobPushOptions): boolean | Promise<boolean>
  /** The push failed after every `pushing` step agreed (the queue down, the job not serializable): undo what `pushing` took. */
  pushFailed?(job: Job, bus: Record<string, unknown>, error: unknown): void | Promise<void>
  /** On a worker, before the job's middleware and handle(). */
  starting?(job: Job, envelope: JobEnvelope, place: JobPlace): void | Promise<void>
  /** After it succeeded, before it is acknowledged; a rejection makes it run again. */
  succeeded?(job: Job, envelope: JobEnvelope, place: JobPlace): void | Promise<void>
  /** After it failed for good (`job` null when it could not be decoded). */
  failed?(job: Job | null, envelope: JobEnvelope, error: unknown, place: JobPlace): void | Promise<void>
}

export interface JobDispatcherDependencies {
  readonly queue: () => QueueManager
  readonly logger: Logger
}

/** The shutdown signal of a job run with dispatchSync: never aborts. */
const NEVER = new AbortController().signal

/**
 * The application's jobs (the `bus` binding, the `Bus` facade): queues job classes through the
 * queue manager, runs them with dispatchSync or after the response, and is how workers run them
 * (middleware, then handle(), with the extensions' steps around).
 */
export class JobDispatcher implements JobDispatchTarget, QueuedJobRuntime {
  private readonly extensions: JobExtension[] = []

  constructor(private readonly deps: JobDispatcherDependencies) {}

  /**
   * Queues a job, as `await SomeJob.dispatch(...)` does, on its own options and `where`'s.
   *
   * ```ts
   * await bus.dispatch(new ProcessPodcast(7), { queue: 'media' })
   * ```
   */
  async dispatch(job: Job, where: JobPushOptions = {}): Promise<string> {
    const bus: Record<string, unknown> = {}
    for (const extension of this.extensions) {
      if (extension.pushing !== undefined && !(await extension.pushing(job, bus, where))) return ''
    }
    try {
      return await this.deps.queue().pushJob(job, jobNameOf(job.constructor), where, Object.keys(bus).length === 0 ? undefined : { bus })
    } catch (error) {
      for (const extension of this.extensions) {
        try {
          await extension.pushFailed?.(job, bus, error)
        } catch (undoError) {
          this.deps.logger.error(`After dispatching ${jobNameOf(job.constructor)} failed: ${errorMessage(undoError)}`)
        }
      }
      throw error
    }
  }

  /**
   * Runs a job here and now, without a queue: middleware, then handle(); a throw (or `fail()`)
   * calls `failed(error)` and rejects with the error.
   */
  async dispatchSync(job: Job): Promise<unknown> {
    const state = new RunningJob(1, NEVER, 'sync', 'default')
    let result: unknown
    try {
      ;(job as unknown as Record<symbol, unknown>)[JOB_CONTEXT] = state
      result = await this.runMiddleware(job)
    } catch (error) {
      await this.callFailed(job, error)
      throw error
    } finally {
      state.finish()
    }
    if (state.failed !== null) {
      await this.callFailed(job, state.failed.error)
      throw state.failed.error
    }
    return result
  }

  /** Runs the job once the current request's response is sent (now, outside a request); a failure is logged. */
  dispatchAfterResponse(job: Job): void {
    const run = () =>
      this.dispatchSync(job).catch((error: unknown) => this.deps.logger.error(`${jobNameOf(job.constructor)} (after the response) failed: ${errorMessage(error)}`))
    if (!afterResponse(run)) void run()
  }

  reportUnawaited(job: Job, error: unknown): void {
    this.deps.logger.error(`Dispatching ${jobNameOf(job.constructor)} failed (nobody awaited it): ${errorMessage(error)}`)
  }

  /**
   * Makes classes whose instances travel inside jobs' fields known to the serializer, by class
   * name (or `static jobName`); job classes register themselves when dispatched or discovered.
   */
  serializable(...classes: Function[]): void {
    for (const ctor of classes) this.deps.queue().registerClass(jobNameOf(ctor), ctor)
  }

  /** @internal Adds a feature's steps around every job (chains, batches, unique locks). */
  extend(extension: JobExtension): () => void {
    this.extensions.push(extension)
    return () => {
      const at = this.extensions.indexOf(extension)
      if (at >= 0) this.extensions.splice(at, 1)
    }
  }

  // The worker's side (QueuedJobRuntime).

  /** @internal */
  run(job: object, state: RunningJob, envelope: JobEnvelope, place: JobPlace): unknown {
    const instance = job as Job
    ;(instance as unknown as Record<symbol, unknown>)[JOB_ENVELOPE] = envelope
    const started = this.starting(instance, envelope, place, 0)
    // No extension had anything to wait for: the job runs now, and a handle() that returns no promise has finished.
    if (started === null) return state.released === null && state.failed === null ? this.runMiddleware(instance) : undefined
    return started.then(() => (state.released === null && state.failed === null ? this.runMiddleware(instance) : undefined))
  }

  /** @internal The extensions' succeeded steps, one after another; undefined when none had anything to do. */
  succeeded(job: object, envelope: JobEnvelope, place: JobPlace, from = 0): Promise<void> | undefined {
    for (let at = from; at < this.extensions.length; at++) {
      const result = this.extensions[at]!.succeeded?.(job as Job, envelope, place)
      if (result instanceof Promise) return result.then(() => this.succeeded(job, envelope, place, at + 1))
    }
    return undefined
  }

  /** @internal */
  async failed(job: object | null, envelope: JobEnvelope, error: unknown, place: JobPlace): Promise<void> {
    for (const extension of this.extensions) {
      try {
        await extension.failed?.(job as Job | null, envelope, error, place)
      } catch (stepError) {
        this.deps.logger.error(`After ${envelope.displayName} failed: ${errorMessage(stepError)}`)
      }
    }
  }

  /** @internal A queued listener's middleware given by name (`'throttle:10,1'`). */
  namedMiddleware(spec: string, listener: string): unknown {
    return namedMiddleware(spec, listener)
  }

  /** The extensions' starting steps from `from` on, one after another; null when none returned a promise. */
  private starting(job: Job, envelope: JobEnvelope, place: JobPlace, from: number): Promise<void> | null {
    for (let at = from; at < this.extensions.length; at++) {
      const result = this.extensions[at]!.starting?.(job, envelope, place)
      if (result instanceof Promise) return result.then(() => this.starting(job, envelope, place, at + 1) ?? undefined)
    }
    return null
  }

  /** The job's middleware (`middleware()`), outermost first, around handle(). */
  private runMiddleware(job: Job): unknown {
    const list = typeof (job as { middleware?: unknown }).middleware === 'function' ? ((job as unknown as { middleware(): JobMiddleware[] }).middleware() ?? []) : []
    if (list.length === 0) return job.handle()
    const step = (at: number): Promise<unknown> => {
      if (at === list.length) return Promise.resolve(job.handle())
      const middleware = list[at]!
      const next = () => step(at + 1)
      return Promise.resolve(typeof middleware === 'function' ? middleware(job, next) : middleware.handle(job, next))
    }
    return step(0)
  }

  private async callFailed(job: Job, error: unknown): Promise<void> {
    const failed = (job as { failed?: unknown }).failed
    if (typeof failed !== 'function') return
    try {
      await (failed as (error: unknown) => unknown).call(job, error)
    } catch (hookError) {
      this.deps.logger.error(`failed() of ${jobNameOf(job.constructor)} threw: ${errorMessage(hookError)}`)
    }
  }
}
