import { randomUUID } from 'node:crypto'
import type { JobEnvelope } from '../queue/envelope.ts'
import type { JobPushOptions } from '../queue/queue-manager.ts'
import type { BatchCount, BatchRecord, BatchRepository } from './batch-repository.ts'
import type { BatchDescription, BusInterceptor, ChainFields, ChainRunner } from './workflow-contracts.ts'
import type { JobExtension } from './job-dispatcher.ts'
import { callbackJob, decodeJob, encodeJob, failureOf, jobList, placement, pushFollowing, type WorkflowContext } from './job-codec.ts'
import { JOB_BATCH, jobNameOf, type Job, type JobBatch } from './job.ts'

/** What a batch's own methods (`add`, `cancel`, `fresh`) need. */
export interface BatchOperations {
  add(batch: Batch, jobs: readonly Job[]): Promise<Batch>
  cancel(id: string): Promise<void>
  find(id: string): Promise<Batch | null>
}

/**
 * A batch of jobs as the `job_batches` table had it when read (Laravel's `Batch`): counts,
 * progress, and `add`/`cancel`. `fresh()` reads it again.
 */
export class Batch implements JobBatch {
  readonly id: string
  readonly name: string
  readonly totalJobs: number
  /** Jobs that have not succeeded yet (a failed job stays pending until a retry succeeds). */
  readonly pendingJobs: number
  readonly failedJobs: number
  /** The uuids of the failed jobs (`queue:retry-batch` pushes them again). */
  readonly failedJobIds: readonly string[]
  readonly createdAt: Date
  readonly cancelledAt: Date | null
  /** When every job had run (succeeded, or failed for good). */
  readonly finishedAt: Date | null

  constructor(
    record: BatchRecord,
    private readonly operations: BatchOperations,
  ) {
    this.id = record.id
    this.name = record.name
    this.totalJobs = record.totalJobs
    this.pendingJobs = record.pendingJobs
    this.failedJobs = record.failedJobs
    this.failedJobIds = record.failedJobIds
    this.createdAt = record.createdAt
    this.cancelledAt = record.cancelledAt
    this.finishedAt = record.finishedAt
  }

  /** Jobs that succeeded. */
  get processedJobs(): number {
    return this.totalJobs - this.pendingJobs
  }

  /** Percent of the jobs that succeeded, 0 to 100 (whole numbers). */
  get progress(): number {
    return this.totalJobs === 0 ? 100 : Math.round((this.processedJobs / this.totalJobs) * 100)
  }

  /** Every job has run (succeeded, or failed for good). */
  get finished(): boolean {
    return this.finishedAt !== null
  }

  /** Cancelled (`cancel()`, or its first failure without `allowFailures()`): its jobs skip their work. */
  get cancelled(): boolean {
    return this.cancelledAt !== null
  }

  /** At least one job failed. */
  get hasFailures(): boolean {
    return this.failedJobs > 0
  }

  /** Adds jobs to the batch (counts first, atomically, then pushes them); resolves to the batch as it is then. */
  add(jobs: readonly Job[]): Promise<Batch> {
    return this.operations.add(this, jobList(jobs, 'batch.add'))
  }

  /** Cancels the batch: its jobs that have not started yet skip their handle(). */
  cancel(): Promise<void> {
    return this.operations.cancel(this.id)
  }

  /** The batch as the table has it now. */
  async fresh(): Promise<Batch> {
    return (await this.operations.find(this.id)) ?? this
  }

  toJSON(): Record<string, unknown> {
    const { id, name, totalJobs, pendingJobs, failedJobs, processedJobs, progress, finished, cancelled, createdAt, finishedAt } = this
    return { id, name, totalJobs, pendingJobs, failedJobs, processedJobs, progress, finished, cancelled, createdAt, finishedAt }
  }
}

/** The options column of a batch: its callbacks (encoded jobs) and where they go. */
interface BatchOptions {
  allowFailures?: boolean
  connection?: string
  queue?: string
  then?: unknown[]
  catch?: unknown[]
  finally?: unknown[]
  /** The rest of the chain this batch is a step of: it goes on once every job has run, unless the batch was cancelled. */
  chain?: ChainFields
}


/** The `bus.batch` field (a member job) or `bus.batchCallback` (a then/catch/finally job). */
function batchIdOf(envelope: Pick<JobEnvelope, 'bus'>, field: 'batch' | 'batchCallback'): string | null {
  const value = envelope.bus?.[field] as { id?: unknown } | undefined
  return value !== undefined && value !== null && typeof value.id === 'string' ? value.id : null
}

/** Shadows a job's handle() and middleware for this run: the job of a cancelled batch does nothing, and counts as done. */
function skipWork(job: Job): void {
  Object.defineProperty(job, 'handle', { value: () => undefined, configurable: true, enumerable: false })
  Object.defineProperty(job, 'middleware', { value: () => [], configurable: true, enumerable: false })
}

/**
 * Batches (Laravel's `Bus::batch`): a `job_batches` row counts the jobs; each carries the batch
 * id in its envelope (`bus.batch`); each success and failure updates the counts under the row's
 * lock and pushes the callback jobs when the count says so.
 */
export class BatchExtension implements JobExtension, BatchOperations {
  private readonly pending = new WeakMap<Job, { field: 'batch' | 'batchCallback'; value: Record<string, unknown> }>()

  constructor(
    private readonly context: WorkflowContext,
    private readonly repository: () => BatchRepository,
    private readonly chains: () => ChainRunner,
  ) {}

  /** Stores the batch, then pushes its jobs; resolves to the batch. `chain`: the rest of the chain it is a step of. */
  async dispatch(description: BatchDescription, chain?: ChainFields): Promise<Batch> {
    const options: BatchOptions = {
      ...(chain !== undefined && { chain }),
      allowFailures: description.allowFailures,
      ...placement(description.connection, description.queue),
      then: description.then.map((job) => encodeJob(this.context, job)),
      catch: description.catch.map((job) => encodeJob(this.context, job)),
      finally: description.finally.map((job) => encodeJob(this.context, job)),
    }
    const record = await this.repository().create({ id: randomUUID(), name: description.name, totalJobs: description.jobs.length, options: { ...options } })
    const batch = new Batch(record, this)
    if (description.jobs.length === 0) {
      await this.afterCount({ batch: record, allSucceeded: true, allRan: true, firstFailure: false }, null)
      return batch
    }
    await this.pushMembers(record, description.jobs)
    return batch
  }

  /** @internal A record of the table as a Batch. */
  wrap(record: BatchRecord): Batch {
    return new Batch(record, this)
  }

  async find(id: string): Promise<Batch | null> {
    const record = await this.repository().find(id)
    return record === null ? null : new Batch(record, this)
  }

  async add(batch: Batch, jobs: readonly Job[]): Promise<Batch> {
    if (jobs.length === 0) return batch
    const record = await this.repository().addJobs(batch.id, jobs.length)
    await this.pushMembers(record, jobs)
    return new Batch(record, this)
  }

  cancel(id: string): Promise<void> {
    return this.repository().cancel(id)
  }

  pushing(job: Job, bus: Record<string, unknown>): boolean {
    const tag = this.pending.get(job)
    if (tag !== undefined) {
      this.pending.delete(job)
      bus[tag.field] = tag.value
    }
    return true
  }

  /** Loads the job's batch for `this.batch()`; a member of a cancelled batch skips its work. */
  starting(job: Job, envelope: JobEnvelope): Promise<void> | undefined {
    const member = batchIdOf(envelope, 'batch')
    const id = member ?? batchIdOf(envelope, 'batchCallback')
    if (id === null) return undefined
    return this.find(id).then((batch) => {
      ;(job as unknown as Record<symbol, unknown>)[JOB_BATCH] = batch
      if (member !== null && batch?.cancelled === true) skipWork(job)
    })
  }

  succeeded(_job: Job, envelope: JobEnvelope): Promise<void> | undefined {
    const id = batchIdOf(envelope, 'batch')
    return id === null ? undefined : this.countSuccess(id, envelope)
  }

  private async countSuccess(id: string, envelope: JobEnvelope): Promise<void> {
    const count = await this.repository().recordSuccess(id, envelope.uuid)
    if (count === null) return this.gone(id, envelope)
    await this.afterCount(count, null)
  }

  async failed(job: Job | null, envelope: JobEnvelope, error: unknown): Promise<void> {
    const id = batchIdOf(envelope, 'batch')
    if (id === null) return
    const count = await this.repository().recordFailure(id, envelope.uuid)
    if (count === null) return this.gone(id, envelope)
    const options = count.batch.options as BatchOptions
    if (count.firstFailure && options.allowFailures !== true) await this.repository().cancel(id)
    await this.afterCount(count, failureOf(job === null ? envelope.displayName : jobNameOf(job.constructor), envelope.uuid, error))
  }

  /** A job of a batch that is no longer in job_batches (pruned, or deleted by hand): nothing to count. */
  private gone(id: string, envelope: JobEnvelope): void {
    this.context.logger.warn(`${envelope.displayName} belongs to batch ${id}, which is not in job_batches any more (pruned?): not counted.`)
  }

  private async afterCount(count: BatchCount, failure: ReturnType<typeof failureOf> | null): Promise<void> {
    if (count.allSucceeded) await this.callbacks(count.batch, 'then', null)
    if (count.firstFailure) await this.callbacks(count.batch, 'catch', failure)
    if (count.allRan) await this.callbacks(count.batch, 'finally', null)
    const options = count.batch.options as BatchOptions
    if (options.chain === undefined) return
    // Decided from the counts read under the row's lock, not from cancelled_at, which the first
    // failure sets in a statement of its own.
    const stopped = count.batch.failedJobs > 0 && options.allowFailures !== true
    if (count.firstFailure && stopped && failure !== null) await this.chains().caught(options.chain, failure)
    if (count.allRan && !stopped && count.batch.cancelledAt === null) await this.chains().continue(options.chain)
  }

  private async pushMembers(record: BatchRecord, jobs: readonly Job[]): Promise<void> {
    const options = record.options as BatchOptions
    const where: JobPushOptions = placement(options.connection, options.queue)
    for (const job of jobs) {
      this.pending.set(job, { field: 'batch', value: { id: record.id, name: record.name } })
      if ((await pushFollowing(this.context, job, where)) === 'pushed') continue
      // Dropped (a unique job already pending elsewhere): it will not run in this batch, so it is counted as done.
      this.pending.delete(job)
      const count = await this.repository().recordSuccess(record.id, `dropped:${randomUUID()}`)
      if (count !== null) await this.afterCount(count, null)
    }
  }

  /** Pushes the batch's `kind` callback jobs; each can read its batch with `this.batch()`. */
  private async callbacks(record: BatchRecord, kind: 'then' | 'catch' | 'finally', failure: ReturnType<typeof failureOf> | null): Promise<void> {
    const options = record.options as BatchOptions
    const list = Array.isArray(options[kind]) ? options[kind] : []
    for (const [at, encoded] of list.entries()) {
      const job = decodeJob(this.context, encoded, `job_batches.options.${kind}[${at}]`)
      if (failure !== null) (job as unknown as { failure: unknown }).failure = failure
      this.pending.set(job, { field: 'batchCallback', value: { id: record.id } })
      await pushFollowing(this.context, job, placement(options.connection, options.queue))
    }
  }
}

/** What a pending batch hands itself to. */
export interface BatchTarget {
  readonly batches: BatchExtension
  fake(): BusInterceptor | null
}

/**
 * A batch on its way to the queue, Laravel's `PendingBatch`. Callbacks are jobs, not
 * functions (a function cannot travel to the worker that runs the batch's last job).
 *
 * ```ts
 * const batch = await Bus.batch([new ImportRows(1, 100), new ImportRows(101, 200)])
 *   .then(new ImportDone(importId)).catch(new ImportFailed(importId)).finally(new CleanUp(importId))
 *   .allowFailures().name('import').onQueue('imports')
 *   .dispatch()
 * ```
 */
export class PendingBatch {
  private readonly description: { -readonly [K in keyof BatchDescription]: BatchDescription[K] }

  constructor(
    jobs: readonly Job[],
    private readonly target: () => BatchTarget,
  ) {
    this.description = {
      jobs: jobList(jobs, 'Bus.batch'),
      name: '',
      then: [],
      catch: [],
      finally: [],
      allowFailures: false,
      connection: undefined,
      queue: undefined,
    }
  }

  /** A job pushed once every job of the batch has succeeded. */
  then(job: Job): this {
    // `await Bus.batch([...])` without dispatch() calls then(resolve, reject): say what is missing.
    if (typeof job === 'function' && typeof (arguments as IArguments)[1] === 'function') {
      throw new TypeError('A pending batch is not a promise: dispatch it (await Bus.batch([...]).dispatch()).')
    }
    ;(this.description.then as Job[]).push(callbackJob(job, 'Bus.batch(...).then'))
    return this
  }

  /** A job pushed on the batch's first failure; it gets `failure` ({@link JobFailure}) set. */
  catch(job: Job): this {
    ;(this.description.catch as Job[]).push(callbackJob(job, 'Bus.batch(...).catch'))
    return this
  }

  /** A job pushed once every job has run, whether it succeeded or failed. */
  finally(job: Job): this {
    ;(this.description.finally as Job[]).push(callbackJob(job, 'Bus.batch(...).finally'))
    return this
  }

  /** A failure does not cancel the batch: the other jobs still run. */
  allowFailures(allow = true): this {
    this.description.allowFailures = allow
    return this
  }

  name(name: string): this {
    this.description.name = name
    return this
  }

  onQueue(queue: string): this {
    this.description.queue = queue
    return this
  }

  onConnection(connection: string): this {
    this.description.connection = connection
    return this
  }

  /** What the batch will be: its jobs, name, callbacks and options. */
  describe(): BatchDescription {
    return { ...this.description, jobs: [...this.description.jobs], then: [...this.description.then], catch: [...this.description.catch], finally: [...this.description.finally] }
  }

  /** Stores the batch and pushes its jobs; resolves to the batch. */
  async dispatch(): Promise<Batch> {
    const target = this.target()
    const fake = target.fake()
    // Bus.fake() records a Batch of its own (a row it keeps in memory).
    if (fake !== null) return fake.recordBatch(this.describe()) as Batch
    return target.batches.dispatch(this.describe())
  }
}

export type { BatchDescription } from './workflow-contracts.ts'
