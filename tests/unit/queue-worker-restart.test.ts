/**
 * The worker's side of `queue:restart`: it reads the signal at start (the baseline) and on a
 * timer, stops with reason 'restart' once the value differs from the baseline (never comparing
 * with its own clock), keeps working through failed reads with one warning per outage, and
 * stops polling once stopped.
 */
import { describe, expect, it, vi } from 'vitest'
import { Dispatcher, Env, MemoryFailedJobStore, QueueManager, createLogger } from 'herald'
import { defaultConfig } from '../../src/foundation/config.ts'
import type { RestartSignal } from '../../src/queue/restart-signal.ts'
import { Worker } from '../../src/queue/worker.ts'

/** A signal whose value (or failure) the test sets, counting reads. */
class FakeSignal implements RestartSignal {
  reads = 0
  constructor(public value: number | null | Error) {}
  async lastRestart(): Promise<number | null> {
    this.reads++
    if (this.value instanceof Error) throw this.value
    return this.value
  }
}

function worker(signal: RestartSignal, warnings: string[] = []): Worker {
  // The sync connection's consume waits until the worker stops: only the signal can end it here.
  const manager = new QueueManager({
    config: { ...defaultConfig(new Env({})).queue, default: 'sync', connections: { sync: { driver: 'sync' } } },
    events: new Dispatcher(),
    database: () => {
      throw new Error('none')
    },
    discovery: () => undefined,
    logger: createLogger('silent'),
    failedJobs: async () => new MemoryFailedJobStore(),
  })
  return new Worker(manager, {
    connection: 'sync',
    queues: ['default'],
    concurrency: 1,
    defaults: { tries: 1, backoff: 0, timeout: 0 },
    sleep: 0.01,
    stopWhenEmpty: false,
    maxJobs: 0,
    maxTime: 0,
    memory: 0,
    restart: signal,
    restartCheck: 0.01,
    onWarning: (message) => warnings.push(message),
  })
}

describe('the worker and queue:restart', () => {
  it('stops with reason restart once the signal changes from what it read at start', async () => {
    const signal = new FakeSignal(1_000)
    const running = worker(signal).run()
    await expect.poll(() => signal.reads, { timeout: 5_000 }).toBeGreaterThanOrEqual(3)
    // An older value is a change too: a restart from a host whose clock is behind.
    signal.value = 999
    expect(await running).toEqual({ processed: 0, failed: 0, released: 0, reason: 'restart' })
  })

  it('restarts on the first signal when none was recorded at start (a table migrated since)', async () => {
    const signal = new FakeSignal(null)
    const running = worker(signal).run()
    await expect.poll(() => signal.reads, { timeout: 5_000 }).toBeGreaterThanOrEqual(2)
    signal.value = Date.now()
    expect((await running).reason).toBe('restart')
  })

  it('keeps working while the signal cannot be read, warning once per outage, and takes its baseline once it can', async () => {
    const signal = new FakeSignal(new Error('database is down'))
    const warnings: string[] = []
    const subject = worker(signal, warnings)
    const running = subject.run()
    await expect.poll(() => signal.reads, { timeout: 5_000 }).toBeGreaterThanOrEqual(4)
    expect(warnings).toEqual(['Cannot read the queue:restart signal (database is down); still working, trying again.'])
    // Back: the value found is the baseline (a restart from before cannot be told from one since).
    signal.value = 5
    const seen = signal.reads
    await expect.poll(() => signal.reads, { timeout: 5_000 }).toBeGreaterThanOrEqual(seen + 3)
    signal.value = new Error('down again')
    await expect.poll(() => warnings.length, { timeout: 5_000 }).toBe(2)
    signal.value = 5
    const again = signal.reads
    await expect.poll(() => signal.reads, { timeout: 5_000 }).toBeGreaterThanOrEqual(again + 3)
    expect(await subject.stop('signal')).toMatchObject({ reason: 'signal' })
    expect(await running).toMatchObject({ reason: 'signal' })
  })

  it('stops polling once stopped', async () => {
    vi.useFakeTimers()
    try {
      const signal = new FakeSignal(7)
      const subject = worker(signal)
      const running = subject.run()
      await vi.advanceTimersByTimeAsync(50)
      expect(signal.reads).toBeGreaterThanOrEqual(3)
      await subject.stop('signal')
      await running
      const after = signal.reads
      // A hundred check intervals later, no new read.
      await vi.advanceTimersByTimeAsync(1_000)
      expect(signal.reads).toBe(after)
    } finally {
      vi.useRealTimers()
    }
  })
})
