import type { QueueDriver } from '../../queue/driver.ts'
import type { JobHookCallback } from '../../queue/job-hooks.ts'
import type { FailedJob } from '../../queue/failed-job-store.ts'
import type { QueueManager } from '../../queue/queue-manager.ts'
import { QueueFake, type PushTarget } from '../../queue/queue-fake.ts'
import type { PushedJob } from '../../queue/queue-manager.ts'
import { facadeRoot } from '../application-root.ts'

function manager(): QueueManager {
  return facadeRoot().make('queue')
}

function currentFake(method: string): QueueFake {
  const fake = manager().currentInterceptor
  if (!(fake instanceof QueueFake)) throw new Error(`Queue.${method}() needs a fake: call Queue.fake() first.`)
  return fake
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
  /** A connection's driver (the default connection when no name is given). */
  connection(name?: string): Promise<QueueDriver> {
    return manager().connection(name)
  },
  /** Jobs waiting on a queue. */
  async size(queue?: string, connection?: string): Promise<number> {
    const queues = manager()
    return (await queues.connection(connection)).size(queue ?? queues.defaultQueue(connection))
  },
  /** Runs `callback` before each job this process's workers take (Laravel's `Queue::before`); the result removes it. */
  before(callback: JobHookCallback<'before'>): () => void {
    return manager().jobHooks.add('before', callback)
  },
  /** Runs `callback` after each job, whatever its outcome (`report.status`: DONE, RELEASED, FAIL). */
  after(callback: JobHookCallback<'after'>): () => void {
    return manager().jobHooks.add('after', callback)
  },
  /** Runs `callback` when a job fails for good (it is then in failed jobs). */
  failing(callback: JobHookCallback<'failing'>): () => void {
    return manager().jobHooks.add('failing', callback)
  },
  /** The failed jobs of every connection, newest first (`artisan queue:failed`). */
  async failedJobs(): Promise<FailedJob[]> {
    return (await manager().failedJobs()).all()
  },
  /** Pushes a failed job back onto its queue (`artisan queue:retry <id>`); false when there is no such failed job. */
  async retryFailed(id: string | number): Promise<boolean> {
    const queues = manager()
    const job = await (await queues.failedJobs()).find(String(id))
    if (job === null) return false
    await queues.retryFailedJob(job)
    return true
  },
  /** Records pushed jobs instead of sending them; queued listeners then do not run. */
  fake(): QueueFake {
    return new QueueFake(manager())
  },
  restore(): void {
    const queues = manager()
    let fake = queues.currentInterceptor
    while (fake instanceof QueueFake) {
      fake.restore()
      if (queues.currentInterceptor === fake) break
      fake = queues.currentInterceptor
    }
  },
  assertPushed<E = unknown>(target: PushTarget, predicateOrTimes?: ((event: E, job: PushedJob) => boolean) | number): void {
    currentFake('assertPushed').assertPushed(target, predicateOrTimes)
  },
  assertPushedOn<E = unknown>(queue: string, target: PushTarget, predicate?: (event: E, job: PushedJob) => boolean): void {
    currentFake('assertPushedOn').assertPushedOn(queue, target, predicate)
  },
  assertNotPushed<E = unknown>(target: PushTarget, predicate?: (event: E, job: PushedJob) => boolean): void {
    currentFake('assertNotPushed').assertNotPushed(target, predicate)
  },
  assertNothingPushed(): void {
    currentFake('assertNothingPushed').assertNothingPushed()
  },
  assertCount(count: number): void {
    currentFake('assertCount').assertCount(count)
  },
  listenersPushed<E = unknown>(target: PushTarget, predicate?: (event: E, job: PushedJob) => boolean): PushedJob[] {
    return currentFake('listenersPushed').listenersPushed(target, predicate)
  },
}
