import { randomUUID } from 'node:crypto'
import { inspect, isDeepStrictEqual } from 'node:util'
import { FakeRecorder, restoreFakes, type FakeHost } from '../foundation/fake-recorder.ts'
import type { JobPushOptions } from '../queue/queue-manager.ts'
import { Batch, type BatchOperations } from './batch.ts'
import type { BatchDescription, BusInterceptor, ChainDescription, ChainStep } from './workflow-contracts.ts'
import type { JobExtension } from './job-dispatcher.ts'
import { isJob, jobNameOf, type Job, type JobClass } from './job.ts'



/** One thing Bus.fake() recorded. */
export type BusRecord =
  | { readonly kind: 'dispatch'; readonly job: Job; readonly where: JobPushOptions }
  | { readonly kind: 'chain'; readonly chain: ChainDescription }
  | { readonly kind: 'batch'; readonly batch: BatchDescription & { readonly id: string } }

/**
 * Where Bus.fake() installs itself: one per application, and the jobs extension (installed
 * before the others) through which every `dispatch` passes: with a fake installed, the fake
 * records the job and it is not pushed.
 */
export class BusFakeSlot implements FakeHost<BusInterceptor>, JobExtension {
  private interceptor: BusInterceptor | null = null

  get currentInterceptor(): BusInterceptor | null {
    return this.interceptor
  }

  intercept(interceptor: BusInterceptor | null): void {
    this.interceptor = interceptor
  }

  pushing(job: Job, _bus: Record<string, unknown>, where: JobPushOptions): boolean {
    if (this.interceptor === null) return true
    this.interceptor.recordDispatch(job, where)
    return false
  }
}

/** Restores every Bus fake still installed (the test setup calls it after each test). */
export function restoreAllBusFakes(): void {
  restoreFakes(BusFake)
}

/** A job class, or an instance to compare field by field. */
export type JobMatcher = JobClass | Job

function matchesJob(matcher: JobMatcher, job: ChainStep): boolean {
  if (!isJob(job)) return false
  if (typeof matcher === 'function') return job.constructor === matcher
  return job.constructor === matcher.constructor && isDeepStrictEqual({ ...job }, { ...matcher })
}

function matcherLabel(matcher: JobMatcher): string {
  return typeof matcher === 'function' ? jobNameOf(matcher) : `${jobNameOf(matcher.constructor)} ${inspect({ ...matcher }, { depth: 2, breakLength: Infinity })}`
}

function describeJob(job: Job): string {
  return `${jobNameOf(job.constructor)} ${inspect({ ...job }, { depth: 2, breakLength: Infinity })}`
}

/** A batch that Bus.fake() recorded, as `assertBatched`'s predicate sees it. */
export type FakeBatch = BatchDescription & { readonly id: string }

/**
 * Records jobs, chains and batches instead of queueing them, Laravel's `Bus::fake()`. Jobs run
 * with `dispatchSync` still run.
 *
 * ```ts
 * using bus = Bus.fake()
 * await ImportCsv.dispatch(7)
 * bus.assertDispatched(ImportCsv, (job) => job.importId === 7)
 * ```
 */
export class BusFake extends FakeRecorder<BusRecord, BusInterceptor> implements BusInterceptor {
  constructor(slot: BusFakeSlot) {
    super(slot, {
      empty: 'No jobs were dispatched.',
      heading: 'Dispatched',
      line: (record) =>
        record.kind === 'dispatch'
          ? describeJob(record.job)
          : record.kind === 'chain'
            ? `chain [${record.chain.jobs.map((step) => (isJob(step) ? jobNameOf(step.constructor) : `batch "${step.name}" (${step.jobs.length} jobs)`)).join(', ')}]`
            : `batch "${record.batch.name}" [${record.batch.jobs.map((job) => jobNameOf(job.constructor)).join(', ')}]`,
    })
    this.install()
  }

  /** @internal */
  recordDispatch(job: Job, where: JobPushOptions): void {
    this.records.push({ kind: 'dispatch', job, where })
  }

  /** @internal */
  recordChain(chain: ChainDescription): string {
    this.records.push({ kind: 'chain', chain })
    return randomUUID()
  }

  /** @internal */
  recordBatch(description: BatchDescription): Batch {
    const id = randomUUID()
    const batch = { ...description, id, jobs: [...description.jobs] }
    this.records.push({ kind: 'batch', batch })
    const operations: BatchOperations = {
      add: async (_batch, jobs) => {
        ;(batch.jobs as Job[]).push(...jobs)
        return fakeBatch(batch, operations)
      },
      cancel: async () => {},
      find: async () => fakeBatch(batch, operations),
    }
    return fakeBatch(batch, operations)
  }

  /** Every job dispatched on its own or as the first of a chain, in order. */
  get dispatched(): readonly Job[] {
    return this.records.flatMap((record) => {
      if (record.kind === 'dispatch') return [record.job]
      const first = record.kind === 'chain' ? record.chain.jobs[0] : undefined
      return first !== undefined && isJob(first) ? [first] : []
    })
  }

  /** Every chain dispatched. */
  get chains(): readonly ChainDescription[] {
    return this.records.flatMap((record) => (record.kind === 'chain' ? [record.chain] : []))
  }

  /** Every batch dispatched. */
  get batches(): readonly FakeBatch[] {
    return this.records.flatMap((record) => (record.kind === 'batch' ? [record.batch] : []))
  }

  /** The dispatched jobs of `job` (a class) that pass `predicate`. */
  dispatchedOf<J extends Job>(job: JobClass<J>, predicate?: (job: J) => boolean): J[] {
    return this.dispatched.filter((each): each is J => each.constructor === job && (predicate === undefined || predicate(each as J)))
  }

  /** Asserts `job` was dispatched: at least once, `times` times, or once passing `predicate`. */
  assertDispatched<J extends Job>(job: JobClass<J>, predicateOrTimes?: ((job: J) => boolean) | number): void {
    if (typeof predicateOrTimes === 'number') {
      const count = this.dispatchedOf(job).length
      if (count !== predicateOrTimes) this.fail(`Expected "${jobNameOf(job)}" to be dispatched ${predicateOrTimes} time(s), but it was dispatched ${count} time(s).`)
      return
    }
    if (this.dispatchedOf(job, predicateOrTimes).length > 0) return
    this.fail(`Expected "${jobNameOf(job)}" to be dispatched${predicateOrTimes ? ' matching the predicate' : ''}, but it was not.`)
  }

  /** Asserts `job` was not dispatched (or that none of its dispatches passed `predicate`). */
  assertNotDispatched<J extends Job>(job: JobClass<J>, predicate?: (job: J) => boolean): void {
    const count = this.dispatchedOf(job, predicate).length
    if (count > 0) this.fail(`Expected "${jobNameOf(job)}" not to be dispatched, but it was dispatched ${count} time(s).`)
  }

  /** Asserts nothing was dispatched: no job, chain or batch. */
  assertNothingDispatched(): void {
    if (this.records.length > 0) this.fail(`Expected nothing to be dispatched, but ${this.records.length} thing(s) were.`)
  }

  /** Asserts a chain of exactly these jobs (classes, or instances compared field by field), in order, was dispatched. */
  assertChained(jobs: readonly JobMatcher[]): void {
    const found = this.chains.some((chain) => chain.jobs.length === jobs.length && jobs.every((matcher, at) => matchesJob(matcher, chain.jobs[at]!)))
    if (!found) this.fail(`Expected a chain [${jobs.map(matcherLabel).join(', ')}] to be dispatched, but none was.`)
  }

  /** Asserts a batch passing `predicate` was dispatched. */
  assertBatched(predicate: (batch: FakeBatch) => boolean): void {
    if (!this.batches.some(predicate)) this.fail('Expected a batch matching the predicate to be dispatched, but none was.')
  }

  /** Asserts how many batches were dispatched. */
  assertBatchCount(count: number): void {
    if (this.batches.length !== count) this.fail(`Expected ${count} batch(es) to be dispatched, but ${this.batches.length} were.`)
  }
}

function fakeBatch(batch: FakeBatch, operations: BatchOperations): Batch {
  return new Batch(
    {
      id: batch.id,
      name: batch.name,
      totalJobs: batch.jobs.length,
      pendingJobs: batch.jobs.length,
      failedJobs: 0,
      failedJobIds: [],
      options: {},
      cancelledAt: null,
      createdAt: new Date(),
      finishedAt: null,
    },
    operations,
  )
}

export type { BusInterceptor, ChainDescription } from './workflow-contracts.ts'
