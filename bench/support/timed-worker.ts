import { performance } from 'node:perf_hooks'
import type { Application } from '../../src/index.ts'
import { Worker } from '../../src/queue/worker.ts'

/**
 * Runs a Herald Worker on `connection`'s default queue (queue:work's defaults) from now until
 * `finished` resolves, then stops it: the wall time and this process's CPU time in between.
 */
export async function timeWorker(app: Application, connection: string, concurrency: number, finished: Promise<void>): Promise<{ ms: number; cpuMs: number }> {
  const worker = new Worker(app.make('queue'), {
    connection,
    queues: ['default'],
    concurrency,
    defaults: { tries: 1, backoff: 0, timeout: 60 },
    sleep: 3,
    stopWhenEmpty: false,
    maxJobs: 0,
    maxTime: 0,
    memory: 512,
  })
  const cpu = process.cpuUsage()
  const start = performance.now()
  const running = worker.run().then(() => Promise.reject(new Error('the worker stopped early')))
  try {
    await Promise.race([finished, running])
    const ms = performance.now() - start
    const used = process.cpuUsage(cpu)
    return { ms, cpuMs: (used.user + used.system) / 1000 }
  } finally {
    await worker.stop()
  }
}
