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
}
