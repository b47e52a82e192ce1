import type { Batch, PendingBatch } from '../../jobs/batch.ts'
import { BusFake, type FakeBatch, type JobMatcher } from '../../jobs/bus-fake.ts'
import type { PendingChain } from '../../jobs/chain.ts'
import type { Job, JobClass } from '../../jobs/job.ts'
import type { JobDispatcher } from '../../jobs/job-dispatcher.ts'
import type { JobWorkflows } from '../../jobs/job-workflows.ts'
import { PendingDispatch } from '../../jobs/pending-dispatch.ts'
import { installedFake } from '../../foundation/fake-recorder.ts'
import { facadeRoot } from '../application-root.ts'

function bus(): JobDispatcher {
  return facadeRoot().make('bus')
}

function workflows(): JobWorkflows {
  return facadeRoot().make('bus.workflows')
}

function fake(method: string): BusFake {
  return installedFake(workflows().fakes, BusFake, 'Bus', method)
}

/**
 * The `Bus` facade: the application's jobs (Laravel's `Bus`), not to be confused with the
 * `EventBus`, which carries events between processes.
 *
 * ```ts
 * await Bus.dispatch(new ProcessPodcast(7)).onQueue('media')
 * await Bus.dispatchSync(new ProcessPodcast(7))
 * ```
 */
export const Bus = {
  /**
   * Queues `job`: the pending dispatch takes `onQueue`/`onConnection`/`delay`, and resolves to
   * the job's id once pushed.
   *
   * ```ts
   * const id = await Bus.dispatch(new ProcessPodcast(7)).delay(60)
   * ```
   */
  dispatch<J extends Job>(job: J): PendingDispatch<J> {
    return new PendingDispatch(job, bus)
  },

  /**
   * Runs `job` now, in this process: middleware, then handle(); a throw calls `failed()` and rejects.
   *
   * ```ts
   * await Bus.dispatchSync(new ProcessPodcast(7))
   * ```
   */
  dispatchSync(job: Job): Promise<unknown> {
    return bus().dispatchSync(job)
  },

  /**
   * Runs `job` in this process once the HTTP response is sent (now, outside a request).
   *
   * ```ts
   * Bus.dispatchAfterResponse(new SendWelcome(user.id))
   * ```
   */
  dispatchAfterResponse(job: Job): void {
    bus().dispatchAfterResponse(job)
  },

  /**
   * Makes classes whose instances travel in jobs' fields known to the serializer (by class name,
   * or `static jobName`), so a worker rebuilds them as instances.
   *
   * ```ts
   * Bus.serializable(Money, Address)   // in a provider's register() or boot()
   * ```
   */
  serializable(...classes: Function[]): void {
    bus().serializable(...classes)
  },

  /**
   * A chain: each job runs once the one before it has succeeded; a failure stops it and pushes
   * the `catch` job (a job, not a function). Resolves to the first job's id.
   *
   * ```ts
   * await Bus.chain([new ImportCsv(id), new IndexRows(id)]).catch(new NotifyImportFailed(id)).onQueue('imports').dispatch()
   * ```
   */
  chain(jobs: ReadonlyArray<Job | PendingBatch>): PendingChain {
    return workflows().chain(jobs)
  },

  /**
   * A batch: its jobs run in any order, on any workers; `then`, `catch` and `finally` jobs are
   * pushed as the batch's counts say (`job_batches`). Resolves to the Batch.
   *
   * ```ts
   * const batch = await Bus.batch([new ImportRows(1, 100), new ImportRows(101, 200)]).then(new ImportDone(id)).name('import').dispatch()
   * ```
   */
  batch(jobs: readonly Job[]): PendingBatch {
    return workflows().batch(jobs)
  },

  /**
   * A batch as the `job_batches` table has it now; null when there is none.
   *
   * ```ts
   * const batch = await Bus.findBatch(id)   // batch.progress, batch.finished, batch.failedJobs, …
   * ```
   */
  findBatch(id: string): Promise<Batch | null> {
    return workflows().findBatch(id)
  },

  /**
   * The most recent batches, newest first (at most `limit`), as the `job_batches` table has them.
   *
   * ```ts
   * for (const batch of await Bus.batches(10)) console.log(batch.name, `${batch.progress}%`)
   * ```
   */
  batches(limit = 50): Promise<Batch[]> {
    return workflows().listBatches(limit)
  },

  /**
   * Records jobs, chains and batches instead of queueing them; `restore()` (or `using`) puts
   * the queue back. `dispatchSync` still runs the job.
   *
   * ```ts
   * using bus = Bus.fake()
   * await ImportCsv.dispatch(7)
   * Bus.assertDispatched(ImportCsv, (job) => job.importId === 7)
   * ```
   */
  fake(): BusFake {
    return workflows().startFake()
  },

  /** Asserts (on the installed fake) that `job` was dispatched: at least once, `times` times, or once passing `predicate`. */
  assertDispatched<J extends Job>(job: JobClass<J>, predicateOrTimes?: ((job: J) => boolean) | number): void {
    fake('assertDispatched').assertDispatched(job, predicateOrTimes)
  },

  /** Asserts (on the installed fake) that `job` was not dispatched (passing `predicate`). */
  assertNotDispatched<J extends Job>(job: JobClass<J>, predicate?: (job: J) => boolean): void {
    fake('assertNotDispatched').assertNotDispatched(job, predicate)
  },

  /** Asserts (on the installed fake) that nothing was dispatched. */
  assertNothingDispatched(): void {
    fake('assertNothingDispatched').assertNothingDispatched()
  },

  /** Asserts (on the installed fake) that a chain of these jobs (classes or instances) was dispatched. */
  assertChained(jobs: readonly JobMatcher[]): void {
    fake('assertChained').assertChained(jobs)
  },

  /** Asserts (on the installed fake) that a batch passing `predicate` was dispatched. */
  assertBatched(predicate: (batch: FakeBatch) => boolean): void {
    fake('assertBatched').assertBatched(predicate)
  },
}
