import { inspect } from 'node:util'
import { FakeRecorder, restoreFakes } from '../foundation/fake-recorder.ts'
import type { PushedJob, PushInterceptor, QueueManager } from './queue-manager.ts'

/** What an assertion names: a listener or event class, or a job's display name. */
export type PushTarget = Function | string

function matches(target: PushTarget, job: PushedJob): boolean {
  return typeof target === 'string' ? job.envelope.displayName === target : job.target === target
}

function label(target: PushTarget): string {
  return typeof target === 'string' ? target : target.name
}

/** A batch as Queue.fake() sees it: the pushed jobs whose envelopes carry one batch id (`bus.batch`). */
export interface PushedBatch {
  readonly id: string
  readonly name: string
  readonly jobs: readonly PushedJob[]
}

/** The name a job class's payload carries (`static jobName`, or the class name), read without the jobs layer. */
function jobName(target: Function | string | object): string {
  if (typeof target === 'string') return target
  const ctor = typeof target === 'function' ? target : (target as { constructor: Function }).constructor
  const declared = Object.hasOwn(ctor, 'jobName') ? (ctor as { jobName?: unknown }).jobName : undefined
  return typeof declared === 'string' && declared !== '' ? declared : ctor.name
}

/** A pushed job and the jobs chained after it (the names in its envelope's `bus.chain`), in order. */
function chainOf(job: PushedJob): string[] {
  const rest = (job.envelope.bus?.chain as { jobs?: unknown } | undefined)?.jobs
  const names = Array.isArray(rest) ? rest.map((encoded) => String((encoded as { name?: unknown } | null)?.name ?? '?')) : []
  return [job.envelope.displayName, ...names]
}

/** Restores every queue fake still installed (the test setup calls it after each test). */
export function restoreAllQueueFakes(): void {
  restoreFakes(QueueFake)
}

/**
 * Records pushed jobs instead of sending them to a connection, Laravel's `Queue::fake()`.
 *
 * ```ts
 * using queue = Queue.fake()
 * await OrderPlaced.dispatch(1)
 * queue.assertPushed(SendReceipt, (event: OrderPlaced) => event.orderId === 1)
 * ```
 */
export class QueueFake extends FakeRecorder<PushedJob, PushInterceptor> implements PushInterceptor {
  constructor(manager: QueueManager) {
    super(manager, {
      empty: 'No jobs were pushed.',
      heading: 'Pushed jobs',
      line: (job) => `${job.envelope.displayName} on ${job.connection}:${job.queue} ${inspect(job.event, { depth: 2, breakLength: Infinity })}`,
      // The queue's list never said how many it left out; kept so its messages stay the same.
      countsLeftOut: false,
    })
    this.install()
  }

  /** @internal */
  record(job: PushedJob): void {
    this.records.push(job)
  }

  /** Every job pushed so far, in order. */
  get pushed(): readonly PushedJob[] {
    return this.records
  }

  /** The pushed jobs of a queued listener (or event) that pass `predicate` (given the event). */
  listenersPushed<E = unknown>(target: PushTarget, predicate?: (event: E, job: PushedJob) => boolean): PushedJob[] {
    return this.records.filter((job) => matches(target, job) && (!predicate || predicate(job.event as E, job)))
  }

  /** Asserts `target` was pushed: at least once, `times` times, or once passing `predicate`. */
  assertPushed<E = unknown>(target: PushTarget, predicateOrTimes?: ((event: E, job: PushedJob) => boolean) | number): void {
    if (typeof predicateOrTimes === 'number') {
      const count = this.listenersPushed(target).length
      if (count !== predicateOrTimes) {
        this.fail(`Expected "${label(target)}" to be pushed ${predicateOrTimes} time(s), but it was pushed ${count} time(s).`)
      }
      return
    }
    if (this.listenersPushed(target, predicateOrTimes).length > 0) return
    this.fail(`Expected "${label(target)}" to be pushed${predicateOrTimes ? ' matching the predicate' : ''}, but it was not.`)
  }

  /** Asserts `target` was pushed on queue `queue` (and passed `predicate`). */
  assertPushedOn<E = unknown>(queue: string, target: PushTarget, predicate?: (event: E, job: PushedJob) => boolean): void {
    if (this.listenersPushed(target, predicate).some((job) => job.queue === queue)) return
    this.fail(`Expected "${label(target)}" to be pushed on queue "${queue}", but it was not.`)
  }

  /** Asserts `target` was not pushed (or that none of its pushes passed `predicate`). */
  assertNotPushed<E = unknown>(target: PushTarget, predicate?: (event: E, job: PushedJob) => boolean): void {
    const count = this.listenersPushed(target, predicate).length
    if (count > 0) this.fail(`Expected "${label(target)}" not to be pushed, but it was pushed ${count} time(s).`)
  }

  /** Asserts no job at all was pushed. */
  assertNothingPushed(): void {
    if (this.records.length > 0) this.fail(`Expected no jobs to be pushed, but ${this.records.length} were.`)
  }

  /** Asserts how many jobs were pushed in all. */
  assertCount(count: number): void {
    if (this.records.length !== count) this.fail(`Expected ${count} job(s) to be pushed, but ${this.records.length} were.`)
  }

  /**
   * Asserts a chain of these jobs (classes, instances or job names), in order, was pushed: its
   * first job, carrying the others in its envelope.
   *
   * ```ts
   * queue.assertChained([ImportCsv, IndexRows, NotifyDone])
   * ```
   */
  assertChained(jobs: ReadonlyArray<Function | string | object>): void {
    const expected = jobs.map(jobName)
    const chains = this.records.filter((job) => job.envelope.job === 'job').map(chainOf)
    if (chains.some((chain) => chain.length === expected.length && chain.every((name, at) => name === expected[at]))) return
    const seen = chains.filter((chain) => chain.length > 1).map((chain) => `[${chain.join(', ')}]`)
    this.fail(`Expected a chain [${expected.join(', ')}] to be pushed, but it was not${seen.length > 0 ? ` (chains pushed: ${seen.join(', ')})` : ''}.`)
  }

  /** The batches whose jobs were pushed, each with its pushed jobs. */
  batches(): PushedBatch[] {
    const byId = new Map<string, { id: string; name: string; jobs: PushedJob[] }>()
    for (const job of this.records) {
      const tag = job.envelope.bus?.batch as { id?: unknown; name?: unknown } | undefined
      if (tag === undefined || typeof tag.id !== 'string') continue
      let batch = byId.get(tag.id)
      if (batch === undefined) byId.set(tag.id, (batch = { id: tag.id, name: typeof tag.name === 'string' ? tag.name : '', jobs: [] }))
      batch.jobs.push(job)
    }
    return [...byId.values()]
  }

  /**
   * Asserts a batch passing `predicate` was pushed (its jobs, grouped by the batch id in their
   * envelopes).
   *
   * ```ts
   * queue.assertBatched((batch) => batch.jobs.length === 3 && batch.name === 'import')
   * ```
   */
  assertBatched(predicate: (batch: PushedBatch) => boolean): void {
    if (!this.batches().some(predicate)) this.fail('Expected a batch matching the predicate to be pushed, but none was.')
  }
}
