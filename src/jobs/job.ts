import { JOB_CONTEXT, type InteractsWithQueue, type JobContext } from '../events/contracts.ts'
import type { JobEnvelope } from '../queue/envelope.ts'
import { PendingDispatch, type JobDispatchTarget } from './pending-dispatch.ts'

/**
 * @internal Where the jobs layer puts the envelope of the job an instance is running (its
 * chain, its batch), beside the queue's JOB_CONTEXT.
 */
export const JOB_ENVELOPE = Symbol.for('herald.jobEnvelope')

/** @internal Where the batches extension puts the batch of the job an instance is running. */
export const JOB_BATCH = Symbol.for('herald.jobBatch')

/** A job's batch, as `this.batch()` gives it (a `Batch`, read when the job started). */
export interface JobBatch {
  readonly id: string
  readonly name: string
  readonly totalJobs: number
  readonly pendingJobs: number
  readonly failedJobs: number
  /** The uuids of its jobs that failed (and have not succeeded on a retry since). */
  readonly failedJobIds: readonly string[]
  readonly processedJobs: number
  /** 0 to 100. */
  readonly progress: number
  readonly finished: boolean
  readonly cancelled: boolean
  readonly hasFailures: boolean
  readonly createdAt: Date
  readonly cancelledAt: Date | null
  readonly finishedAt: Date | null
  /** Adds jobs to the batch and pushes them. */
  add(jobs: readonly Job[]): Promise<JobBatch>
  /** Cancels the batch: its jobs that have not started skip their work. */
  cancel(): Promise<void>
  /** The batch as the table has it now. */
  fresh(): Promise<JobBatch>
  /** Its counts and times, as plain data. */
  toJSON(): Record<string, unknown>
}

/**
 * A job's options, each a property (or a method of no arguments) of the job, as for queued
 * listeners; `implements JobOptions` type-checks them. A pending dispatch's `onQueue()`,
 * `onConnection()` and `delay()` win over them.
 */
export interface JobOptions {
  connection?: string | (() => string)
  queue?: string | (() => string)
  /** Seconds, or a Date to run at. */
  delay?: number | Date | (() => number | Date)
  tries?: number | (() => number)
  /** Seconds before each retry; the last one repeats. */
  backoff?: number | number[] | (() => number | number[])
  /** Seconds an attempt may run. */
  timeout?: number | (() => number)
  /** Fail for good after this many exceptions (a release is not one). */
  maxExceptions?: number | (() => number)
  /** Retry until then, whatever `tries` says. */
  retryUntil?: Date | (() => Date)
  /** A timeout fails the job for good instead of retrying. */
  failOnTimeout?: boolean | (() => boolean)
  /** Inside a transaction, push it once the transaction commits (dropped on rollback). */
  afterCommit?: boolean | (() => boolean)
}

/** A job class, as the static dispatch methods see it. */
export type JobClass<J extends Job = Job> = (new (...args: never[]) => J) & { readonly jobName?: string }

/** The name a job's payload carries: `static jobName`, or the class name. */
export function jobNameOf(ctor: Function): string {
  const declared = Object.hasOwn(ctor, 'jobName') ? (ctor as { jobName?: unknown }).jobName : undefined
  return typeof declared === 'string' && declared !== '' ? declared : ctor.name
}

let target: (() => JobDispatchTarget) | null = null

/** @internal Where `SomeJob.dispatch(...)` goes: the application root installs the jobs dispatcher. */
export function setJobDispatchTarget(locate: (() => JobDispatchTarget) | null): void {
  target = locate
}

function dispatcher(): JobDispatchTarget {
  if (target === null) throw new Error('Jobs need an application: boot one (bootApplication) before dispatching a job.')
  return target()
}

function runningJob(self: Job, method: string): JobContext {
  const context = (self as unknown as Record<symbol, JobContext | undefined>)[JOB_CONTEXT]
  if (context === undefined) throw new Error(`${method}() works only while the job runs (on a queue, or with dispatchSync).`)
  return context
}

/**
 * A unit of work for the queue, Laravel's `ShouldQueue` job: its constructor takes what it works
 * on (kept as fields: they travel through the serializer — Date, Map, Set, BigInt, nested plain
 * objects, event classes and classes registered with `Bus.serializable`), `handle()` does the
 * work on a worker. Options are properties (see {@link JobOptions}).
 *
 * ```ts
 * export default class ProcessPodcast extends Job {
 *   tries = 3
 *   constructor(readonly podcastId: number) { super() }
 *   async handle() { await transcode(this.podcastId, { signal: this.signal }) }
 *   failed(error: unknown) { notifyOps(this.podcastId, error) }
 * }
 *
 * await ProcessPodcast.dispatch(7)                       // queued
 * await ProcessPodcast.dispatch(7).onQueue('media').delay(60)
 * await ProcessPodcast.dispatchSync(7)                   // here and now
 * ```
 */
export abstract class Job implements InteractsWithQueue {
  /** The job's work, run by a worker (or at once with `dispatchSync`, or on the `sync` connection). */
  abstract handle(): unknown

  /** This attempt's number, from 1. */
  attempts(): number {
    return runningJob(this, 'attempts').attempts()
  }

  /** Puts the job back on the queue, to run again in `delaySeconds`; this attempt counts. */
  release(delaySeconds = 0): void {
    runningJob(this, 'release').release(delaySeconds)
  }

  /** Fails the job now: no retry, `failed()` is called, a failed_jobs row is written. */
  fail(error: unknown = new Error(`Failed by the job ${jobNameOf(this.constructor)}.`)): void {
    runningJob(this, 'fail').fail(error)
  }

  /** Aborts on the job's timeout and on the worker's shutdown. */
  get signal(): AbortSignal {
    return runningJob(this, 'signal').signal
  }

  /**
   * The batch this job belongs to (or whose then/catch/finally job it is), as it was when the
   * job started; null outside a batch. `add([...jobs])` adds jobs to it, `cancel()` cancels it,
   * `await batch.fresh()` reads it again.
   *
   * ```ts
   * async handle() {
   *   if (this.batch()?.cancelled) return     // done for you: a cancelled batch's jobs skip handle()
   *   await this.batch()?.add([new ImportRows(this.to + 1, this.to + 100)])
   * }
   * ```
   */
  batch(): JobBatch | null {
    return ((this as unknown as Record<symbol, JobBatch | null | undefined>)[JOB_BATCH] ?? null) as JobBatch | null
  }

  /** @internal The envelope this instance runs in; null outside a worker's run. */
  protected runningEnvelope(): JobEnvelope | null {
    return ((this as unknown as Record<symbol, JobEnvelope | undefined>)[JOB_ENVELOPE] ?? null) as JobEnvelope | null
  }

  /**
   * Queues a new job made from `args`: awaiting the pending dispatch pushes it (and resolves to
   * its id); left un-awaited it is pushed all the same, right after the current statement.
   *
   * ```ts
   * await ProcessPodcast.dispatch(podcast.id)
   * await ProcessPodcast.dispatch(podcast.id).onConnection('redis').onQueue('media').delay(30)
   * ```
   */
  static dispatch<T extends JobClass>(this: T, ...args: ConstructorParameters<T>): PendingDispatch<InstanceType<T>> {
    return new PendingDispatch(new this(...args) as InstanceType<T>, dispatcher)
  }

  /**
   * Runs a new job made from `args` now, in this process, without a queue: its middleware and
   * `handle()`; a throw calls `failed(error)` and rejects.
   *
   * ```ts
   * await ProcessPodcast.dispatchSync(podcast.id)
   * ```
   */
  static dispatchSync<T extends JobClass>(this: T, ...args: ConstructorParameters<T>): Promise<unknown> {
    return dispatcher().dispatchSync(new this(...args))
  }

  /**
   * Queues the job only when `condition` holds (a boolean, or a function asked now).
   *
   * ```ts
   * await ProcessPodcast.dispatchIf(podcast.needsTranscoding, podcast.id)
   * ```
   */
  static dispatchIf<T extends JobClass>(this: T, condition: boolean | (() => boolean), ...args: ConstructorParameters<T>): PendingDispatch<InstanceType<T>, string | null> {
    const pending = new PendingDispatch<InstanceType<T>, string | null>(new this(...args) as InstanceType<T>, dispatcher)
    return (typeof condition === 'function' ? condition() : condition) ? pending : pending.cancelled()
  }

  /**
   * Queues the job unless `condition` holds.
   *
   * ```ts
   * await ProcessPodcast.dispatchUnless(podcast.processed, podcast.id)
   * ```
   */
  static dispatchUnless<T extends JobClass>(this: T, condition: boolean | (() => boolean), ...args: ConstructorParameters<T>): PendingDispatch<InstanceType<T>, string | null> {
    const pending = new PendingDispatch<InstanceType<T>, string | null>(new this(...args) as InstanceType<T>, dispatcher)
    return (typeof condition === 'function' ? condition() : condition) ? pending.cancelled() : pending
  }

  /**
   * Runs the job in this process once the HTTP response has been sent (Laravel's
   * `dispatchAfterResponse`): the client does not wait for it. Outside a request it runs now. A
   * failure is logged (the response is gone); `failed(error)` is called.
   *
   * ```ts
   * router.post('/signup', async (req, res) => { SendWelcome.dispatchAfterResponse(user.id); res.redirect('/') })
   * ```
   */
  static dispatchAfterResponse<T extends JobClass>(this: T, ...args: ConstructorParameters<T>): void {
    dispatcher().dispatchAfterResponse(new this(...args))
  }
}

/** True for an instance of a class extending Job. */
export function isJob(value: unknown): value is Job {
  return value instanceof Job
}

/** True for a class extending Job (not Job itself). */
export function isJobClass(value: Function): boolean {
  return value !== Job && value.prototype instanceof Job
}
