import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { QueueConnectionConfig } from '../../foundation/config.ts'
import type { ConsumeOptions, PushOptions, QueueDriver, QueueDriverContext } from '../driver.ts'

/**
 * Runs each job in the pushing process, at once, through the same pipeline as a worker:
 * tries, backoff (waited for), release, failed() and failed_jobs. As in Laravel, a job that
 * fails for good makes the push (and so the dispatch) reject with its error.
 */
export class SyncDriver implements QueueDriver {
  constructor(
    readonly connection: string,
    private readonly context: QueueDriverContext,
  ) {}

  async push(payload: string, options: PushOptions): Promise<string> {
    const id = randomUUID()
    const runner = this.context.runner(this.connection)
    let current = payload
    for (let attempts = 1; ; attempts++) {
      const outcome = await runner.process({ id, queue: options.queue, payload: current, attempts })
      if (outcome.kind === 'done') return id
      if (outcome.kind === 'failed') throw outcome.error
      current = outcome.payload
      if (outcome.delay > 0) await sleep(outcome.delay * 1000)
    }
  }

  async size(): Promise<number> {
    return 0
  }

  async clear(): Promise<number> {
    return 0
  }

  /** Nothing waits on a sync connection: a worker on it has nothing to do. */
  async consume(options: ConsumeOptions): Promise<void> {
    if (options.stopWhenEmpty || options.signal.aborted) return
    await new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }))
  }

  async close(): Promise<void> {}
}

export function createDriver(name: string, _config: QueueConnectionConfig, context: QueueDriverContext): QueueDriver {
  return new SyncDriver(name, context)
}
