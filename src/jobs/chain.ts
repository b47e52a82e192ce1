import type { JobEnvelope } from '../queue/envelope.ts'
import type { JobPlace } from '../queue/job-runtime.ts'
import type { JobPushOptions } from '../queue/queue-manager.ts'
import type { BusInterceptor } from './bus-fake.ts'
import type { JobExtension } from './job-dispatcher.ts'
import { callbackJob, decodeJob, encodeJob, failureOf, jobList, placement, pushFollowing, type WorkflowContext } from './job-codec.ts'
import { jobNameOf, type Job } from './job.ts'

/**
 * The rest of a chain, as it travels in the `bus.chain` field of the envelope of the job that
 * runs now: the jobs after it (encoded by the queue's serializer), the catch job, and where
 * they go. The failed_jobs row of a failed job keeps it, so `queue:retry` continues the chain.
 */
export interface ChainFields {
  readonly jobs: readonly unknown[]
  readonly catch: unknown
  readonly connection?: string
  readonly queue?: string
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
export class ChainExtension implements JobExtension {
  /** Jobs about to be pushed as part of a chain, with the rest of their chain. */
  private readonly pending = new WeakMap<Job, ChainFields>()

  constructor(private readonly context: WorkflowContext) {}

  /** Pushes `jobs` as a chain; resolves to the first job's id. */
  async dispatch(jobs: readonly Job[], catchJob: Job | null, where: JobPushOptions): Promise<string> {
    const [first, ...rest] = jobs
    if (first === undefined) return ''
    const fields: ChainFields = {
      jobs: rest.map((job) => encodeJob(this.context, job)),
      catch: catchJob === null ? null : encodeJob(this.context, catchJob),
      ...where,
    }
    if (rest.length > 0 || catchJob !== null) this.pending.set(first, fields)
    return this.context.dispatcher().dispatch(first, where)
  }

  pushing(job: Job, bus: Record<string, unknown>): boolean {
    const fields = this.pending.get(job)
    if (fields !== undefined) {
      this.pending.delete(job)
      bus.chain = fields
    }
    return true
  }

  /** The job succeeded: the chain's next job is pushed before it is acknowledged. */
  async succeeded(_job: Job, envelope: JobEnvelope): Promise<void> {
    const fields = chainFields(envelope)
    if (fields === null || fields.jobs.length === 0) return
    const next = decodeJob(this.context, fields.jobs[0], 'bus.chain.jobs[0]')
    const rest: ChainFields = { ...fields, jobs: fields.jobs.slice(1) }
    if (rest.jobs.length > 0 || rest.catch !== null) this.pending.set(next, rest)
    await pushFollowing(this.context, next, placement(fields.connection, fields.queue))
  }

  /** The job failed for good: the chain stops here and its catch job is pushed, told the failure. */
  async failed(job: Job | null, envelope: JobEnvelope, error: unknown, _place: JobPlace): Promise<void> {
    const fields = chainFields(envelope)
    if (fields === null || fields.catch === null || fields.catch === undefined) return
    const catchJob = decodeJob(this.context, fields.catch, 'bus.chain.catch')
    ;(catchJob as unknown as { failure: unknown }).failure = failureOf(job === null ? envelope.displayName : jobNameOf(job.constructor), envelope.uuid, error)
    await pushFollowing(this.context, catchJob, placement(fields.connection, fields.queue))
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
 * ```
 */
export class PendingChain {
  readonly jobs: readonly Job[]
  private catchJob: Job | null = null
  private connection: string | undefined
  private queue: string | undefined

  constructor(
    jobs: readonly Job[],
    private readonly target: () => ChainTarget,
  ) {
    this.jobs = jobList(jobs, 'Bus.chain')
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
