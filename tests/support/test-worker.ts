import type { QueueManager } from '../../src/queue/queue-manager.ts'
import { Worker, type WorkerOptions } from '../../src/queue/worker.ts'

/** A worker on the database connection's default queue, polling every 50 ms, as tests run one. */
export function testWorker(manager: QueueManager, options: Partial<WorkerOptions> = {}): Worker {
  return new Worker(manager, {
    connection: 'database',
    queues: ['default'],
    concurrency: 1,
    defaults: { tries: 1, backoff: 0, timeout: 30 },
    sleep: 0.05,
    stopWhenEmpty: false,
    maxJobs: 0,
    maxTime: 0,
    memory: 0,
    ...options,
  })
}
