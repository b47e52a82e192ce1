import type { DatabaseManager } from '../database/database-manager.ts'
import type { Logger } from '../foundation/logger.ts'
import type { QueueManager } from '../queue/queue-manager.ts'
import { Batch, BatchExtension, PendingBatch, type BatchTarget } from './batch.ts'
import { BatchRepository } from './batch-repository.ts'
import { BusFake, BusFakeSlot, type BusInterceptor } from './bus-fake.ts'
import { ChainExtension, PendingChain, type ChainTarget } from './chain.ts'
import type { JobDispatcher } from './job-dispatcher.ts'
import type { Job } from './job.ts'

export interface JobWorkflowsDependencies {
  readonly queue: () => QueueManager
  readonly dispatcher: () => JobDispatcher
  readonly database: () => DatabaseManager
  readonly logger: Logger
  /** The database connection of the `job_batches` table (the failed jobs' one); unset: the default. */
  readonly batchDatabase?: string | null
}

/**
 * Chains, batches and Bus.fake(), as the `Bus` facade reaches them (the `bus.workflows`
 * binding): each is a JobExtension installed on the dispatcher by the JobsServiceProvider.
 */
export class JobWorkflows implements ChainTarget, BatchTarget {
  readonly fakes = new BusFakeSlot()
  readonly chains: ChainExtension
  readonly batches: BatchExtension
  private repositoryInstance: BatchRepository | null = null

  constructor(private readonly deps: JobWorkflowsDependencies) {
    const context = { queue: deps.queue, dispatcher: deps.dispatcher, logger: deps.logger }
    this.chains = new ChainExtension(context, () => this.batches)
    this.batches = new BatchExtension(context, () => this.repository, () => this.chains)
  }

  /** The job_batches table. */
  get repository(): BatchRepository {
    return (this.repositoryInstance ??= new BatchRepository(this.deps.database(), 'job_batches', this.deps.batchDatabase ?? undefined))
  }

  /** Installs the extensions on the dispatcher: the fake first, so a faked job reaches no other. */
  install(dispatcher: JobDispatcher): () => void {
    const removers = [dispatcher.extend(this.fakes), dispatcher.extend(this.chains), dispatcher.extend(this.batches)]
    return () => removers.forEach((remove) => remove())
  }

  fake(): BusInterceptor | null {
    return this.fakes.currentInterceptor
  }

  chain(jobs: ReadonlyArray<Job | PendingBatch>): PendingChain {
    return new PendingChain(jobs, () => this)
  }

  batch(jobs: readonly Job[]): PendingBatch {
    return new PendingBatch(jobs, () => this)
  }

  findBatch(id: string): Promise<Batch | null> {
    return this.batches.find(id)
  }

  /** The most recent batches, newest first. */
  async listBatches(limit: number): Promise<Batch[]> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new RangeError(`Bus.batches(limit): limit must be a whole number from 1 to 1000, got ${limit}.`)
    return (await this.repository.list(limit)).map((record) => this.batches.wrap(record))
  }

  /**
   * Pushes the batch's failed jobs back from failed_jobs (`queue:retry-batch`); resolves to
   * how many were pushed, or null when there is no such batch.
   */
  async retryBatch(id: string): Promise<number | null> {
    const batch = await this.findBatch(id)
    if (batch === null) return null
    const queue = this.deps.queue()
    const store = await queue.failedJobs()
    let pushed = 0
    for (const uuid of batch.failedJobIds) {
      const failed = await store.find(uuid)
      if (failed === null) continue
      await queue.retryFailedJob(failed)
      pushed++
    }
    return pushed
  }

  /** Deletes the batches that finished more than `hours` ago (`queue:prune-batches`); resolves to how many. */
  pruneBatches(hours: number): Promise<number> {
    return this.repository.prune(new Date(Date.now() - hours * 3_600_000))
  }

  /** Installs a new Bus fake. */
  startFake(): BusFake {
    return new BusFake(this.fakes)
  }
}
