import { describe, expect, it } from 'vitest'
import { Dispatcher, Env, Listener, MemoryFailedJobStore, QueueManager, ShouldQueue, createLogger, type ConsumeOptions, type DeliveredJob, type JobOutcome, type QueueDriver } from 'herald'
import { defaultConfig } from '../../src/foundation/config.ts'
import { Worker } from '../../src/queue/worker.ts'
import type { JobReport } from '../../src/queue/job-hooks.ts'

/** A driver over an array, to watch the worker's own rules (limits, stop, reports). */
class ArrayDriver implements QueueDriver {
  readonly connection = 'memory'
  readonly jobs: DeliveredJob[] = []
  readonly outcomes: Array<[string, JobOutcome['kind']]> = []
  inHand = 0
  maxInHand = 0

  async push(payload: string, options: { queue: string }): Promise<string> {
    const id = String(this.jobs.length + this.outcomes.length + 1)
    this.jobs.push({ id, queue: options.queue, payload, attempts: 1 })
    return id
  }
  async size(): Promise<number> {
    return this.jobs.length
  }
  async clear(): Promise<number> {
    return this.jobs.splice(0).length
  }
  async consume(options: ConsumeOptions): Promise<void> {
    const loop = async () => {
      while (!options.signal.aborted) {
        const job = this.jobs.shift()
        if (job === undefined) {
          if (options.stopWhenEmpty) return
          await new Promise((resolve) => setTimeout(resolve, 5))
          continue
        }
        this.inHand++
        this.maxInHand = Math.max(this.maxInHand, this.inHand)
        const outcome = await options.process(job)
        this.inHand--
        this.outcomes.push([job.id, outcome.kind])
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, loop))
  }
  async close(): Promise<void> {}
}

class Ping {
  constructor(readonly n: number) {}
}

function setup(handle: (event: Ping) => unknown) {
  const events = new Dispatcher()
  const driver = new ArrayDriver()
  const manager = new QueueManager({
    config: { ...defaultConfig(new Env({})).queue, default: 'memory', connections: { memory: { driver: 'sync' } } },
    events,
    database: () => {
      throw new Error('none')
    },
    discovery: () => undefined,
    logger: createLogger('silent'),
    failedJobs: async () => new MemoryFailedJobStore(),
  })
  // The worker asks the manager for the connection's driver: hand it the array driver.
  manager.connection = async () => driver
  class Pong extends ShouldQueue(Listener.for(Ping)) {
    handle(event: Ping) {
      return handle(event)
    }
  }
  events.listen(Ping, Pong)
  events.useQueue({
    push: async (listener, name, event) =>
      driver.push(
        JSON.stringify({ uuid: crypto.randomUUID(), displayName: 'Pong', job: 'listener', data: { listener: listener.name, event: name, payload: { $t: 'Event', name: 'Ping', v: { n: (event as Ping).n } } } }),
        { queue: 'default' },
      ),
    pushEvent: async () => undefined,
  })
  return { events, driver, manager }
}

const base = { connection: 'memory', queues: ['default'], defaults: { tries: 1, backoff: 0, timeout: 0 }, sleep: 0.01, maxTime: 0, memory: 0 }

describe('the worker', () => {
  it('runs jobs with the given concurrency, reports each, and stops when empty', async () => {
    const handled: number[] = []
    const { events, driver, manager } = setup(async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      handled.push(event.n)
      if (event.n === 3) throw new Error('three is bad')
    })
    for (let n = 1; n <= 8; n++) await events.dispatch(new Ping(n))
    const reports: JobReport[] = []
    const worker = new Worker(manager, { ...base, concurrency: 3, stopWhenEmpty: true, maxJobs: 0, onJob: (r) => reports.push(r) })
    const summary = await worker.run()
    expect(handled.sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(driver.maxInHand).toBe(3)
    expect(summary).toEqual({ processed: 8, failed: 1, released: 0, reason: 'empty' })
    expect(reports.filter((r) => r.status === 'FAIL').map((r) => [r.name, r.error])).toEqual([['Pong', 'three is bad']])
    expect(reports.every((r) => r.name === 'Pong' && r.ms >= 0)).toBe(true)
  })

  it('stops after --max-jobs', async () => {
    const { events, driver, manager } = setup(() => undefined)
    for (let n = 1; n <= 5; n++) await events.dispatch(new Ping(n))
    const summary = await new Worker(manager, { ...base, concurrency: 1, stopWhenEmpty: false, maxJobs: 2 }).run()
    expect(summary.reason).toBe('max-jobs')
    expect(driver.outcomes).toHaveLength(2)
    expect(driver.jobs).toHaveLength(3)
  })

  it('stops for --memory once the process uses more than the limit', async () => {
    const { events, driver, manager } = setup(() => undefined)
    for (let n = 1; n <= 5; n++) await events.dispatch(new Ping(n))
    // 1 MB: any Node process is above it, so the first job's check stops the worker.
    const summary = await new Worker(manager, { ...base, memory: 1, concurrency: 1, stopWhenEmpty: false, maxJobs: 0 }).run()
    expect(summary).toMatchObject({ reason: 'memory', processed: 1 })
    expect(driver.jobs).toHaveLength(4)
  })

  it('stop() takes no new job but finishes the one in hand', async () => {
    let release!: () => void
    const started: number[] = []
    const finished: number[] = []
    const { events, driver, manager } = setup(async (event) => {
      started.push(event.n)
      await new Promise<void>((resolve) => (release = resolve))
      finished.push(event.n)
    })
    for (let n = 1; n <= 3; n++) await events.dispatch(new Ping(n))
    const worker = new Worker(manager, { ...base, concurrency: 1, stopWhenEmpty: false, maxJobs: 0 })
    const running = worker.run()
    await expect.poll(() => started).toEqual([1])
    const stopping = worker.stop()
    expect(worker.stop()).toBe(stopping)
    release()
    const summary = await stopping
    expect(summary).toMatchObject({ processed: 1, reason: 'signal' })
    expect(finished).toEqual([1])
    expect(driver.jobs.map((job) => job.id)).toEqual(['2', '3'])
    await running
  })

  it('runs Queue.before / after / failing callbacks around each job; a callback that throws or rejects fails nothing', async () => {
    const { events, manager } = setup((event) => {
      if (event.n === 2) throw new Error('two is bad')
    })
    const seen: string[] = []
    manager.jobHooks.add('before', (job) => seen.push(`before ${job.name} #${job.id} attempt ${job.attempt} on ${job.connection}:${job.queue}`))
    manager.jobHooks.add('after', (job) => seen.push(`after #${job.id} ${job.status}`))
    const removeFailing = manager.jobHooks.add('failing', (job) => seen.push(`failing #${job.id} ${job.error}`))
    manager.jobHooks.add('before', () => {
      throw new Error('a broken hook')
    })
    manager.jobHooks.add('after', async () => Promise.reject(new Error('a broken async hook')))
    for (let n = 1; n <= 2; n++) await events.dispatch(new Ping(n))
    const summary = await new Worker(manager, { ...base, concurrency: 1, stopWhenEmpty: true, maxJobs: 0 }).run()
    expect(summary).toMatchObject({ processed: 2, failed: 1 })
    expect(seen).toEqual([
      'before Pong #1 attempt 1 on memory:default',
      'after #1 DONE',
      'before Pong #2 attempt 1 on memory:default',
      'after #2 FAIL',
      'failing #2 two is bad',
    ])
    removeFailing()
    expect(manager.jobHooks.failing).toHaveLength(0)
  })
})
