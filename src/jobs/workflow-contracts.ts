import type { JobPushOptions } from '../queue/queue-manager.ts'
import type { JobFailure } from './job-codec.ts'
import type { Job, JobBatch } from './job.ts'

/*
 * The shapes chains, batches and Bus.fake() share, in a file of their own so that none of
 * batch.ts, chain.ts and bus-fake.ts imports another's types in a circle.
 */

/** A batch as Bus.fake() records it, and as `PendingBatch` describes itself. */
export interface BatchDescription {
  readonly jobs: readonly Job[]
  readonly name: string
  readonly then: readonly Job[]
  readonly catch: readonly Job[]
  readonly finally: readonly Job[]
  readonly allowFailures: boolean
  readonly connection: string | undefined
  readonly queue: string | undefined
}

/** One step of a chain: a job, or a batch whose jobs all run before the next step. */
export type ChainStep = Job | BatchDescription

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

/** A chain as Bus.fake() records it: its steps are jobs, and batches (their descriptions). */
export interface ChainDescription {
  readonly jobs: readonly ChainStep[]
  readonly catch: Job | null
  readonly connection: string | undefined
  readonly queue: string | undefined
}

/** What Bus.fake() takes in place of the queue. */
export interface BusInterceptor {
  recordDispatch(job: Job, where: JobPushOptions): void
  recordChain(chain: ChainDescription): string
  recordBatch(batch: BatchDescription): JobBatch
}

/** What a batch that is a step of a chain asks of the chains: go on, or stop and push the catch job. */
export interface ChainRunner {
  continue(fields: ChainFields): Promise<void>
  caught(fields: ChainFields, failure: JobFailure): Promise<void>
}
