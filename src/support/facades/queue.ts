import type { QueueDriver } from '../../queue/driver.ts'
import type { JobHookCallback } from '../../queue/job-hooks.ts'
import type { FailedJob } from '../../queue/failed-job-store.ts'
import type { QueueManager } from '../../queue/queue-manager.ts'
import { QueueFake, type PushTarget } from '../../queue/queue-fake.ts'
import type { PushedJob } from '../../queue/queue-manager.ts'
import { installedFake, restoreFakesOn } from '../../foundation/fake-recorder.ts'
import { facadeRoot } from '../application-root.ts'

function manager(): QueueManager {
  return facadeRoot().make('queue')
}

function currentFake(method: string): QueueFake {
  return installedFake(manager(), QueueFake, 'Queue', method)
}

/**
 * The `Queue` facade: the application's queue connections, plus Laravel's fake.
 *
 * ```ts
 * using queue = Queue.fake()
 * await OrderPlaced.dispatch(1)
 * Queue.assertPushed(SendReceipt)
 * Queue.assertPushedOn('emails', SendReceipt)
 * ```
 */
export const Queue = {
  /**
   * A connection's driver (the default connection when no name is given).
   *
   * ```ts
   * const redis = await Queue.connection('redis')
   * await redis.clear('emails')
   * ```
   */
  connection(name?: string): Promise<QueueDriver> {
    return manager().connection(name)
  },

  /**
   * Jobs waiting on a queue (the connection's default queue when none is given).
   *
   * ```ts
   * await Queue.size()                      // the default queue of the default connection
   * await Queue.size('emails', 'redis')
   * ```
   */
  async size(queue?: string, connection?: string): Promise<number> {
    const queues = manager()
    return (await queues.connection(connection)).size(queue ?? queues.defaultQueue(connection))
  },

  /**
   * Runs `callback` before each job this process's workers take (Laravel's `Queue::before`);
   * it is not awaited and cannot fail the job. The result removes it.
   *
   * ```ts
   * const off = Queue.before((job) => log(`${job.name} #${job.id} attempt ${job.attempt} on ${job.connection}:${job.queue}`))
   * off()
   * ```
   */
  before(callback: JobHookCallback<'before'>): () => void {
    return manager().jobHooks.add('before', callback)
  },

  /**
   * Runs `callback` after each job, whatever its outcome (`job.status`: DONE, RELEASED or
   * FAIL). The result removes it.
   *
   * ```ts
   * Queue.after((job) => metrics.observe(job.name, job.status, job.ms))
   * ```
   */
  after(callback: JobHookCallback<'after'>): () => void {
    return manager().jobHooks.add('after', callback)
  },

  /**
   * Runs `callback` when a job fails for good (it is then in failed jobs). The result removes it.
   *
   * ```ts
   * Queue.failing((job) => alert(`${job.name} failed: ${job.error}`))
   * ```
   */
  failing(callback: JobHookCallback<'failing'>): () => void {
    return manager().jobHooks.add('failing', callback)
  },

  /**
   * The failed jobs of every connection, newest first (what `artisan queue:failed` lists).
   *
   * ```ts
   * for (const job of await Queue.failedJobs()) console.log(job.id, job.queue, job.exception)
   * ```
   */
  async failedJobs(): Promise<FailedJob[]> {
    return (await manager().failedJobs()).all()
  },

  /**
   * Pushes a failed job (by id or uuid) back onto its queue, as `artisan queue:retry <id>`
   * does; false when there is no such failed job.
   *
   * ```ts
   * if (!(await Queue.retryFailed(5))) console.warn('no failed job 5')
   * ```
   */
  async retryFailed(id: string | number): Promise<boolean> {
    const queues = manager()
    const job = await (await queues.failedJobs()).find(String(id))
    if (job === null) return false
    await queues.retryFailedJob(job)
    return true
  },

  /**
   * Records pushed jobs instead of sending them; queued listeners then do not run. `using`
   * puts the real connections back at the end of the block.
   *
   * ```ts
   * using queue = Queue.fake()
   * await OrderPlaced.dispatch(1)
   * queue.assertPushed(SendReceipt, (event: OrderPlaced) => event.orderId === 1)
   * ```
   */
  fake(): QueueFake {
    return new QueueFake(manager())
  },

  /**
   * Removes every queue fake and puts the real connections back.
   *
   * ```ts
   * Queue.fake()
   * Queue.restore()
   * await OrderPlaced.dispatch(1)   // SendReceipt goes to its queue again
   * ```
   */
  restore(): void {
    restoreFakesOn(manager(), QueueFake)
  },

  /**
   * Asserts `target` (a listener or event class, or a job's name) was pushed: at least once,
   * exactly `times` times, or at least once passing `predicate` (given the event and the job).
   * The AssertionError lists what was pushed.
   *
   * ```ts
   * using queue = Queue.fake()
   * await OrderPlaced.dispatch(1)
   * Queue.assertPushed(SendReceipt)
   * Queue.assertPushed(SendReceipt, 1)
   * Queue.assertPushed('SendReceipt', (event: OrderPlaced) => event.orderId === 1)
   * ```
   */
  assertPushed<E = unknown>(target: PushTarget, predicateOrTimes?: ((event: E, job: PushedJob) => boolean) | number): void {
    currentFake('assertPushed').assertPushed(target, predicateOrTimes)
  },

  /**
   * Asserts `target` was pushed on the queue named `queue` (and passed `predicate`).
   *
   * ```ts
   * Queue.assertPushedOn('emails', SendReceipt)
   * Queue.assertPushedOn('emails', SendReceipt, (event: OrderPlaced, job) => job.delay === 0)
   * ```
   */
  assertPushedOn<E = unknown>(queue: string, target: PushTarget, predicate?: (event: E, job: PushedJob) => boolean): void {
    currentFake('assertPushedOn').assertPushedOn(queue, target, predicate)
  },

  /**
   * Asserts `target` was not pushed, or that none of its pushes passed `predicate`.
   *
   * ```ts
   * Queue.assertNotPushed(NotifyWarehouse)
   * Queue.assertNotPushed(SendReceipt, (event: OrderPlaced) => event.orderId === 2)
   * ```
   */
  assertNotPushed<E = unknown>(target: PushTarget, predicate?: (event: E, job: PushedJob) => boolean): void {
    currentFake('assertNotPushed').assertNotPushed(target, predicate)
  },

  /**
   * Asserts no job at all was pushed.
   *
   * ```ts
   * using queue = Queue.fake()
   * await viewCart()
   * Queue.assertNothingPushed()
   * ```
   */
  assertNothingPushed(): void {
    currentFake('assertNothingPushed').assertNothingPushed()
  },

  /**
   * Asserts how many jobs were pushed in all.
   *
   * ```ts
   * Queue.assertCount(2)
   * ```
   */
  assertCount(count: number): void {
    currentFake('assertCount').assertCount(count)
  },

  /**
   * The pushed jobs of `target` that pass `predicate`, each with its connection, queue, delay,
   * envelope and event.
   *
   * ```ts
   * const [job] = Queue.listenersPushed(SendReceipt)
   * expect(job?.queue).toBe('emails')
   * ```
   */
  listenersPushed<E = unknown>(target: PushTarget, predicate?: (event: E, job: PushedJob) => boolean): PushedJob[] {
    return currentFake('listenersPushed').listenersPushed(target, predicate)
  },
}
