import type { JobEnvelope } from '../queue/envelope.ts'
import type { JobPlace } from '../queue/job-runtime.ts'
import type { JobPushOptions } from '../queue/queue-manager.ts'
import { PendingBatch, type BatchExtension } from './batch.ts'
import type { BatchDescription, BusInterceptor, ChainFields, ChainRunner, ChainStep } from './workflow-contracts.ts'
import type { JobExtension } from './job-dispatcher.ts'
import { callbackJob, decodeJob, encodeJob, failureOf, placement, pushFollowing, type JobFailure, type WorkflowContext } from './job-codec.ts'
import { isJob, jobNameOf, type Job } from './job.ts'


/** A batch step as it travels in `bus.chain.jobs`. */
interface EncodedBatchStep {
  readonly $batch: {
    readonly jobs: unknown[]
    readonly name: string
    readonly allowFailures: boolean
    readonly then: unknown[]
    readonly catch: unknown[]
    readonly finally: unknown[]
    readonly connection?: string
    readonly queue?: string
  }
}

function isBatchStep(value: unknown): value is EncodedBatchStep {
  return typeof value === 'object' && value !== null && '$batch' in value
}


/** The `bus.chain` field of an envelope, checked; null when the job is in no chain. */
export function chainFields(envelope: Pick<JobEnvelope, 'bus'>): ChainFields | null {
  const value = envelope.bus?.chain
  if (value === undefined) return null
  const fields = value as Partial<ChainFields> | null
  if (fields === null || typeof fields !== 'object' || !Array.isArray(fields.jobs)) {
    throw new Error(`The chain in job envelope is not a Herald chain (bus.chain.jobs must be a list).`)
  }
  return fields as ChainFields
}

/**
 * Chains (Laravel's `Bus::chain`): the first job is pushed with the rest of the chain in its
 * envelope; when it succeeds, the next one is pushed with what follows it, and so on. A job
 * that fails for good stops the chain and pushes its catch job.
 */
export class ChainExtension implements JobExtension, ChainRunner {
  /** Jobs about to be pushed as part of a chain, with the rest of their chain. */
  private readonly pending = new WeakMap<Job, ChainFields>()

  constructor(
    private readonly context: WorkflowContext,
    private readonly batches: () => BatchExtension,
  ) {}

  /** Pushes the chain's first step, carrying the rest; resolves to its id (a job's, or a batch's). */
  async dispatch(steps: readonly ChainStep[], catchJob: Job | null, where: JobPushOptions): Promise<string> {
    const [first, ...rest] = steps
    if (first === undefined) return ''
    const fields: ChainFields = {
      jobs: rest.map((step) => this.encodeStep(step)),
      catch: catchJob === null ? null : encodeJob(this.context, catchJob),
      ...where,
    }
    return this.start(first, fields, false)
  }

  pushing(job: Job, bus: Record<string, unknown>): boolean {
    const fields = this.pending.get(job)
    if (fields !== undefined) {
      this.pending.delete(job)
      bus.chain = fields
    }
    return true
  }

  /** The job succeeded: the chain's next step is pushed before it is acknowledged. */
  succeeded(_job: Job, envelope: JobEnvelope): Promise<void> | undefined {
    const fields = chainFields(envelope)
    return fields === null ? undefined : this.continue(fields)
  }

  /** The job failed for good: the chain stops here and its catch job is pushed, told the failure. */
  async failed(job: Job | null, envelope: JobEnvelope, error: unknown, _place: JobPlace): Promise<void> {
    const fields = chainFields(envelope)
    if (fields !== null) await this.caught(fields, failureOf(job === null ? envelope.displayName : jobNameOf(job.constructor), envelope.uuid, error))
  }

  /** @internal Runs the chain's next step (after a job, or a batch step that finished). */
  async continue(fields: ChainFields): Promise<void> {
    if (fields.jobs.length === 0) return
    const next = isBatchStep(fields.jobs[0]) ? this.decodeBatch(fields.jobs[0]) : decodeJob(this.context, fields.jobs[0], 'bus.chain.jobs[0]')
    await this.start(next, { ...fields, jobs: fields.jobs.slice(1) }, true)
  }

  /** @internal The chain failed (a job, or a batch step that was cancelled): its catch job is pushed. */
  async caught(fields: ChainFields, failure: JobFailure): Promise<void> {
    if (fields.catch === null || fields.catch === undefined) return
    const catchJob = decodeJob(this.context, fields.catch, 'bus.chain.catch')
    ;(catchJob as unknown as { failure: unknown }).failure = failure
    await pushFollowing(this.context, catchJob, placement(fields.connection, fields.queue))
  }

  private async start(step: ChainStep, rest: ChainFields, following: boolean): Promise<string> {
    const where = placement(rest.connection, rest.queue)
    const more = rest.jobs.length > 0 || (rest.catch !== null && rest.catch !== undefined)
    if (!isJob(step)) {
      const batch = await this.batches().dispatch({ ...step, connection: step.connection ?? rest.connection, queue: step.queue ?? rest.queue }, more ? rest : undefined)
      return batch.id
    }
    if (more) this.pending.set(step, rest)
    if (!following) return this.context.dispatcher().dispatch(step, where)
    await pushFollowing(this.context, step, where)
    return ''
  }

  private encodeStep(step: ChainStep): unknown {
    if (isJob(step)) return encodeJob(this.context, step)
    const encode = (job: Job) => encodeJob(this.context, job)
    const batch: EncodedBatchStep = {
      $batch: {
        jobs: step.jobs.map(encode),
        name: step.name,
        allowFailures: step.allowFailures,
        then: step.then.map(encode),
        catch: step.catch.map(encode),
        finally: step.finally.map(encode),
        ...placement(step.connection, step.queue),
      },
    }
    return batch
  }

  private decodeBatch(step: EncodedBatchStep): BatchDescription {
    const { $batch: batch } = step
    const decode = (field: string) => (value: unknown, at: number) => decodeJob(this.context, value, `bus.chain.jobs[0].$batch.${field}[${at}]`)
    return {
      jobs: batch.jobs.map(decode('jobs')),
      name: batch.name,
      allowFailures: batch.allowFailures,
      then: batch.then.map(decode('then')),
      catch: batch.catch.map(decode('catch')),
      finally: batch.finally.map(decode('finally')),
      connection: batch.connection,
      queue: batch.queue,
    }
  }
}

/** What a pending chain hands itself to. */
export interface ChainTarget {
  readonly chains: ChainExtension
  /** The installed Bus.fake(), if any: it records the chain instead. */
  fake(): BusInterceptor | null
}

/**
 * A chain on its way to the queue, Laravel's `PendingChain`: each job runs after the one
 * before it succeeded; a failure stops the chain and pushes the catch job.
 *
 * ```ts
 * await Bus.chain([new ImportCsv(id), new IndexRows(id), new NotifyDone(id)])
 *   .catch(new NotifyImportFailed(id))       // a job, not a function: it may run on another worker
 *   .onQueue('imports')
 *   .dispatch()
 * await Bus.chain([new Download(id), Bus.batch([new Part(1), new Part(2)]), new Merge(id)]).dispatch()
 * ```
 */
export class PendingChain {
  /** The chain's steps: jobs, and batches (`Bus.batch([...])`, not dispatched) whose jobs all run before the next step. */
  readonly jobs: readonly ChainStep[]
  private catchJob: Job | null = null
  private connection: string | undefined
  private queue: string | undefined

  constructor(
    jobs: ReadonlyArray<Job | PendingBatch>,
    private readonly target: () => ChainTarget,
  ) {
    this.jobs = chainSteps(jobs)
  }

  /** The job pushed when a job of the chain fails for good; it gets `failure` ({@link JobFailure}) set. */
  catch(job: Job): this {
    this.catchJob = callbackJob(job, 'Bus.chain(...).catch')
    return this
  }

  /** The queue every job of the chain goes on (over the jobs' own `queue`). */
  onQueue(queue: string): this {
    this.queue = queue
    return this
  }

  /** The connection every job of the chain goes to (over the jobs' own `connection`). */
  onConnection(connection: string): this {
    this.connection = connection
    return this
  }

  /** The catch job, if one was set. */
  get catchCallback(): Job | null {
    return this.catchJob
  }

  /** Pushes the first job, carrying the rest; resolves to its id. */
  async dispatch(): Promise<string> {
    const target = this.target()
    const fake = target.fake()
    if (fake !== null) return fake.recordChain({ jobs: this.jobs, catch: this.catchJob, connection: this.connection, queue: this.queue })
    return target.chains.dispatch(this.jobs, this.catchJob, placement(this.connection, this.queue))
  }
}

/** The steps of `Bus.chain([...])`, checked: jobs, and pending batches (taken as they are described now). */
function chainSteps(items: unknown): ChainStep[] {
  if (!Array.isArray(items)) throw new TypeError('Bus.chain() takes a list of jobs ([new A(), new B()]).')
  return items.map((item: unknown, at) => {
    if (isJob(item)) return item
    if (item instanceof PendingBatch) return item.describe()
    const hint = typeof item === 'function' ? '; a function cannot travel to another worker process' : ''
    throw new TypeError(`Bus.chain(): item ${at} is not a job (an instance of a class extending Job) or a Bus.batch([...])${hint}.`)
  })
}

export type { ChainFields, ChainStep } from './workflow-contracts.ts'
