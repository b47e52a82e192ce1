import type { QueueDriver } from '../../queue/driver.ts'
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
