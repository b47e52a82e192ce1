/**
 * The bullmq driver against a real Redis (REDIS_URL, default 127.0.0.1:6379). Redis being down
 * fails the suite. Every run uses its own key prefix, so parallel runs never meet, and deletes
 * its keys afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Dispatchable, JobRunner, MemoryFailedJobStore, ShouldQueue, createLogger, type Logger } from 'herald'
import type { ConsumeOptions, DeliveredJob, JobOutcome } from '../../src/queue/driver.ts'
import { BullmqDriver } from '../../src/queue/drivers/bullmq-driver.ts'
import { createEnvelope } from '../../src/queue/envelope.ts'
import type { EventClassRegistry } from '../../src/foundation/serializer.ts'
import { projectRoot } from '../support/project-copy.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const PREFIX = `herald-test-bullmq-${process.pid}-${randomBytes(4).toString('hex')}`
/** Short locks so a killed consumer's jobs come back within seconds. */
const LOCK_SECONDS = 2
const STALLED_SECONDS = 1

// ---------------------------------------------------------------------------------------------
// An event, a queued listener whose behaviour the event chooses, and what it saw.

type Mode = 'ok' | 'release-once' | 'throw'

class Ping extends Dispatchable {
  constructor(
    readonly n: number,
    readonly mode: Mode = 'ok',
  ) {
    super()
  }
}

interface Run {
  readonly n: number
  readonly attempts: number
  readonly at: number
}

const started: Run[] = []
const finished: Run[] = []
/** A job whose number is here waits for the promise before finishing. */
const gates = new Map<number, Promise<void>>()
/** Every gate's opener, so a failed test cannot leave jobs in hand that close() would wait for. */
const openers: Array<() => void> = []

class RecordPing extends ShouldQueue(class {}) {
  async handle(event: Ping): Promise<void> {
    const run = { n: event.n, attempts: this.attempts(), at: Date.now() }
    started.push(run)
    await gates.get(event.n)
    if (event.mode === 'release-once' && run.attempts === 1) this.release(1)
    if (event.mode === 'throw') throw new Error(`Ping ${event.n} failed on purpose`)
    finished.push({ ...run, at: Date.now() })
  }
}

const registry: EventClassRegistry = {
  classFor: (name) => (name === 'Ping' ? Ping : undefined),
  nameOf: (instance) => (instance instanceof Ping ? 'Ping' : undefined),
}

function envelope(ping: Ping, options: { tries?: number; backoff?: number[]; listener?: string } = {}): string {
  const listener = options.listener ?? 'RecordPing'
  return JSON.stringify(
    createEnvelope(
      {
        displayName: listener,
        job: 'listener',
        data: { listener, method: null, event: 'Ping', payload: ping },
        maxTries: options.tries ?? 1,
        maxExceptions: null,
        backoff: options.backoff ?? null,
        timeout: null,
        failOnTimeout: false,
        retryUntil: null,
      },
      registry,
    ),
  )
}

// ---------------------------------------------------------------------------------------------
// Harness

let admin: Redis
const logs: string[] = []
const logger: Logger = createLogger('debug', (line) => logs.push(line))
const drivers: BullmqDriver[] = []
let queueCount = 0

/** A queue name no other test uses. */
function queueName(label = 'q'): string {
  return `${label}-${++queueCount}`
}

function newDriver(options: { priorities?: boolean } = {}): BullmqDriver {
  const driver = new BullmqDriver('bullmq', {
    url: REDIS_URL,
    prefix: PREFIX,
    lockDuration: LOCK_SECONDS,
    stalledInterval: STALLED_SECONDS,
    logger,
    ...options,
  })
  drivers.push(driver)
  return driver
}

function newRunner(store = new MemoryFailedJobStore()): JobRunner {
  return new JobRunner({
    connection: 'bullmq',
    registry,
    resolveListener: (name) => (name === 'RecordPing' ? { listener: RecordPing, method: 'handle' } : undefined),
    dispatchNow: async () => {
      throw new Error('This suite queues no ShouldQueue events.')
    },
    failedJobs: async () => store,
    logger,
  })
}

interface Consumer {
  /** Every delivery, in order, as the driver handed it over. */
  readonly deliveries: DeliveredJob[]
  readonly outcomes: JobOutcome[]
  readonly done: Promise<void>
  /** Aborts and waits for consume() to resolve. */
  stop(): Promise<void>
}

function consume(
  driver: BullmqDriver,
  queues: string[],
  options: Partial<Omit<ConsumeOptions, 'queues' | 'signal'>> & { runner?: JobRunner } = {},
): Consumer {
  const runner = options.runner ?? newRunner()
  const deliveries: DeliveredJob[] = []
  const outcomes: JobOutcome[] = []
  const abort = new AbortController()
  const done = driver.consume({
    queues,
    concurrency: options.concurrency ?? 1,
    sleep: options.sleep ?? 1,
    stopWhenEmpty: options.stopWhenEmpty ?? false,
    signal: abort.signal,
    process:
      options.process ??
      (async (job) => {
        deliveries.push(job)
        const outcome = await runner.process(job)
        outcomes.push(outcome)
        return outcome
      }),
  })
  return {
    deliveries,
    outcomes,
    done,
    stop: async () => {
      abort.abort()
      await done
    },
  }
}

/** Re-checks `condition` every 10 ms until it holds; fails naming `what` after `timeout` ms. */
async function until(what: string, condition: () => boolean | Promise<boolean>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function gate(n: number): () => void {
  let open!: () => void
  gates.set(n, new Promise<void>((resolve) => (open = resolve)))
  openers.push(open)
  return open
}

async function counts(queue: string): Promise<Record<string, number>> {
  const bull = new Queue(queue, { connection: admin, prefix: PREFIX })
  try {
    return await bull.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed')
  } finally {
    await bull.close()
  }
}

beforeAll(async () => {
  admin = new Redis(REDIS_URL, { maxRetriesPerRequest: null, connectTimeout: 2000, lazyConnect: true, retryStrategy: () => null })
  try {
    await admin.connect()
    await admin.ping()
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${String(error)}): start it (redis-server, or bash .ci/run) or set REDIS_URL. This suite is never skipped.`,
    )
  }
})

afterEach(async () => {
  for (const open of openers.splice(0)) open()
  await Promise.all(drivers.splice(0).map((driver) => driver.close()))
  started.length = 0
  finished.length = 0
  gates.clear()
  logs.length = 0
})

afterAll(async () => {
  let keys = 0
  for await (const batch of admin.scanStream({ match: `${PREFIX}:*`, count: 1000 }) as AsyncIterable<string[]>) {
    if (batch.length > 0) keys += await admin.unlink(...batch)
  }
  expect(keys).toBeGreaterThan(0)
  expect(await admin.keys(`${PREFIX}:*`)).toEqual([])
  await admin.quit()
})

// ---------------------------------------------------------------------------------------------

describe('bullmq driver', () => {
  it('round-trips jobs through a real JobRunner, storing them under the envelope uuid and removing them once done', async () => {
    const driver = newDriver()
    const queue = queueName()
    const payloads = [1, 2, 3].map((n) => envelope(new Ping(n)))
    const ids = await Promise.all(payloads.map((payload) => driver.push(payload, { queue, delay: 0, priority: 0 })))
    expect(ids).toEqual(payloads.map((payload) => (JSON.parse(payload) as { uuid: string }).uuid))
    expect(await driver.size(queue)).toBe(3)

    const consumer = consume(driver, [queue], { stopWhenEmpty: true })
    await consumer.done
    expect(finished.map((run) => run.n)).toEqual([1, 2, 3])
    expect(consumer.deliveries.map((job) => [job.id, job.queue, job.attempts])).toEqual(ids.map((id) => [id, queue, 1]))
    expect(consumer.outcomes.every((outcome) => outcome.kind === 'done')).toBe(true)
    expect(await driver.size(queue)).toBe(0)
    expect(await admin.exists(...ids.map((id) => `${PREFIX}:${queue}:${id}`))).toBe(0)
  })

  it('stores a pushed envelope once when it is pushed twice (same uuid)', async () => {
    const driver = newDriver()
    const queue = queueName()
    const payload = envelope(new Ping(1))
    const first = await driver.push(payload, { queue, delay: 0, priority: 0 })
    const second = await driver.push(payload, { queue, delay: 0, priority: 0 })
    expect(second).toBe(first)
    expect(await driver.size(queue)).toBe(1)
  })

  it('counts waiting, prioritized and delayed jobs in size() and deletes them with clear()', async () => {
    const driver = newDriver()
    const queue = queueName()
    await driver.push(envelope(new Ping(1)), { queue, delay: 0, priority: 0 })
    await driver.push(envelope(new Ping(2)), { queue, delay: 0, priority: 7 })
    await driver.push(envelope(new Ping(3)), { queue, delay: 60, priority: 0 })
    expect(await driver.size(queue)).toBe(3)
    expect(await driver.clear(queue)).toBe(3)
    expect(await driver.size(queue)).toBe(0)
    expect(await counts(queue)).toMatchObject({ waiting: 0, prioritized: 0, delayed: 0 })
  })

  it('honours delay: a delayed job runs no earlier than asked, and does not hold up the jobs behind it', async () => {
    const driver = newDriver()
    const queue = queueName()
    const consumer = consume(driver, [queue], { sleep: 5 })
    const pushedAt = Date.now()
    await driver.push(envelope(new Ping(1)), { queue, delay: 1.2, priority: 0 })
    await driver.push(envelope(new Ping(2)), { queue, delay: 0, priority: 0 })
    await until('the delayed job to run', () => finished.length === 2)
    await consumer.stop()
    expect(finished.map((run) => run.n)).toEqual([2, 1])
    const waited = finished[1]!.at - pushedAt
    expect(waited).toBeGreaterThanOrEqual(1200)
    // Woken by the delay marker, not by the 5 s idle rescan.
    expect(waited).toBeLessThan(2500)
  })

  it('with priorities on, runs higher Herald priorities first within a queue, first-in first-out among equals', async () => {
    const driver = newDriver({ priorities: true })
    const queue = queueName()
    const pushes: Array<[n: number, priority: number]> = [
      [1, 0],
      [2, 10],
      [3, -5],
      [4, 10],
      [5, 5],
      [6, 0],
    ]
    for (const [n, priority] of pushes) await driver.push(envelope(new Ping(n)), { queue, delay: 0, priority })
    await consume(driver, [queue], { stopWhenEmpty: true }).done
    expect(finished.map((run) => run.n)).toEqual([2, 4, 5, 1, 6, 3])
  })

  it('with priorities off (the default), runs first in, first out, and says once that priorities are ignored', async () => {
    const driver = newDriver()
    const queue = queueName()
    for (const [n, priority] of [[1, 0], [2, 10], [3, -5], [4, 10]] as const) await driver.push(envelope(new Ping(n)), { queue, delay: 0, priority })
    await consume(driver, [queue], { stopWhenEmpty: true }).done
    expect(finished.map((run) => run.n)).toEqual([1, 2, 3, 4])
    const warnings = logs.filter((line) => line.startsWith('[warn]') && line.includes('ignores priorities'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('has priority 10, but queue connection "bullmq" ignores priorities: set QUEUE_PRIORITIES=true')
  })

  it('gives earlier queues precedence: jobs waiting on both are taken from the first queue first', async () => {
    const driver = newDriver()
    const [high, low] = [queueName('high'), queueName('low')]
    for (const n of [1, 2, 3]) await driver.push(envelope(new Ping(n)), { queue: low, delay: 0, priority: 0 })
    for (const n of [11, 12]) await driver.push(envelope(new Ping(n)), { queue: high, delay: 0, priority: 0 })
    await consume(driver, [high, low], { stopWhenEmpty: true }).done
    expect(finished.map((run) => run.n)).toEqual([11, 12, 1, 2, 3])
  })

  it('keeps precedence for jobs pushed while a slot is busy, and wakes at once for a push to any queue', async () => {
    const driver = newDriver()
    const [high, low] = [queueName('high'), queueName('low')]
    const consumer = consume(driver, [high, low], { sleep: 5 })

    // Idle consumer, push to the second queue: seen through its wake-up marker, not the 5 s rescan.
    const pushedAt = Date.now()
    await driver.push(envelope(new Ping(1)), { queue: low, delay: 0, priority: 0 })
    await until('the job on the second queue', () => finished.length === 1)
    expect(finished[0]!.at - pushedAt).toBeLessThan(1000)

    const open = gate(2)
    await driver.push(envelope(new Ping(2)), { queue: low, delay: 0, priority: 0 })
    await until('job 2 to start', () => started.some((run) => run.n === 2))
    // While the only slot is busy: a later job on the low queue, then one on the high queue.
    await driver.push(envelope(new Ping(3)), { queue: low, delay: 0, priority: 0 })
    await driver.push(envelope(new Ping(4)), { queue: high, delay: 0, priority: 0 })
    open()
    await until('every job', () => finished.length === 4)
    await consumer.stop()
    expect(finished.map((run) => run.n)).toEqual([1, 2, 4, 3])
  })

  it('holds exactly `concurrency` jobs at once', async () => {
    const driver = newDriver()
    const queue = queueName()
    const opens = [1, 2, 3, 4, 5].map((n) => gate(n))
    for (const n of [1, 2, 3, 4, 5]) await driver.push(envelope(new Ping(n)), { queue, delay: 0, priority: 0 })
    const consumer = consume(driver, [queue], { concurrency: 3 })
    await until('three jobs in hand', () => started.length === 3)
    expect(await counts(queue)).toMatchObject({ active: 3, waiting: 2 })
    opens[0]!()
    await until('a fourth job once a slot frees', () => started.length === 4)
    expect(started.map((run) => run.n)).toEqual([1, 2, 3, 4])
    expect(await counts(queue)).toMatchObject({ active: 3, waiting: 1 })
    for (const open of opens) open()
    await until('every job', () => finished.length === 5)
    await consumer.stop()
  })

  it('redelivers a released job after its delay with attempts + 1 and the updated envelope', async () => {
    const driver = newDriver()
    const queue = queueName()
    const id = await driver.push(envelope(new Ping(1, 'release-once'), { tries: 3 }), { queue, delay: 0, priority: 0 })
    const consumer = consume(driver, [queue], { sleep: 5 })
    await until('the second attempt to finish', () => finished.some((run) => run.attempts === 2))
    await consumer.stop()

    expect(started.map((run) => run.attempts)).toEqual([1, 2])
    expect(started[1]!.at - started[0]!.at).toBeGreaterThanOrEqual(1000)
    expect(consumer.outcomes.map((outcome) => outcome.kind)).toEqual(['release', 'done'])
    // The same BullMQ job, carrying the envelope the runner handed back on release.
    expect(consumer.deliveries.map((job) => job.id)).toEqual([id, id])
    const released = consumer.outcomes[0] as Extract<JobOutcome, { kind: 'release' }>
    expect(consumer.deliveries[1]!.payload).toBe(released.payload)
    expect(JSON.parse(consumer.deliveries[0]!.payload)).toMatchObject({ attempts: 0 })
    expect(JSON.parse(consumer.deliveries[1]!.payload)).toMatchObject({ attempts: 1 })
  })

  it('carries the exception count across retries with the backoff from the envelope', async () => {
    const driver = newDriver()
    const queue = queueName()
    const store = new MemoryFailedJobStore()
    await driver.push(envelope(new Ping(1, 'throw'), { tries: 2, backoff: [1] }), { queue, delay: 0, priority: 0 })
    const consumer = consume(driver, [queue], { stopWhenEmpty: true, runner: newRunner(store) })
    await consumer.done
    expect(consumer.outcomes.map((outcome) => outcome.kind)).toEqual(['release', 'failed'])
    expect(consumer.deliveries.map((job) => job.attempts)).toEqual([1, 2])
    expect(JSON.parse(consumer.deliveries[1]!.payload)).toMatchObject({ exceptions: 1 })
    expect(started[1]!.at - started[0]!.at).toBeGreaterThanOrEqual(1000)
    expect(await store.all()).toHaveLength(1)
  })

  it('does not retry a failed job in BullMQ: it runs once, is recorded by the runner, and leaves Redis', async () => {
    const driver = newDriver()
    const queue = queueName()
    const store = new MemoryFailedJobStore()
    const id = await driver.push(envelope(new Ping(1, 'throw'), { tries: 1 }), { queue, delay: 0, priority: 0 })
    // stopWhenEmpty waits for delayed jobs too: a BullMQ retry would run before it resolves.
    const consumer = consume(driver, [queue], { stopWhenEmpty: true, runner: newRunner(store) })
    await consumer.done
    expect(started).toHaveLength(1)
    expect(consumer.outcomes.map((outcome) => outcome.kind)).toEqual(['failed'])
    const failed = await store.all()
    expect(failed).toHaveLength(1)
    expect(failed[0]).toMatchObject({ connection: 'bullmq', queue })
    expect(failed[0]!.exception).toContain('Ping 1 failed on purpose')
    expect(await counts(queue)).toMatchObject({ waiting: 0, prioritized: 0, delayed: 0, active: 0, failed: 0 })
    expect(await admin.exists(`${PREFIX}:${queue}:${id}`)).toBe(0)
  })

  it('fails garbage jobs with the reason and keeps going, even when plain BullMQ asked for retries', async () => {
    const driver = newDriver()
    const queue = queueName()
    const store = new MemoryFailedJobStore()
    const bull = new Queue(queue, { connection: admin, prefix: PREFIX })
    const retries = { attempts: 5, backoff: { type: 'fixed', delay: 10 } }
    await bull.add('text', 'not json at all', retries)
    await bull.add('object', { hello: 'world' }, retries)
    await bull.add('unknown', JSON.parse(envelope(new Ping(7), { listener: 'NoSuchListener' })) as object, retries)
    await bull.close()
    await driver.push(envelope(new Ping(8)), { queue, delay: 0, priority: 0 })

    const consumer = consume(driver, [queue], { stopWhenEmpty: true, runner: newRunner(store) })
    await consumer.done
    expect(consumer.outcomes.map((outcome) => outcome.kind)).toEqual(['failed', 'failed', 'failed', 'done'])
    expect(finished.map((run) => run.n)).toEqual([8])
    const reasons = (await store.all()).reverse().map((job) => job.exception)
    expect(reasons[0]).toContain('The job payload is not JSON')
    expect(reasons[1]).toContain('PayloadDecodeError: envelope.uuid: a missing value is not a job id')
    expect(reasons[2]).toContain('Listener "NoSuchListener" is not a registered queued listener')
    expect(consumer.deliveries.map((job) => job.attempts)).toEqual([1, 1, 1, 1])
    // No BullMQ retry despite attempts: 5: the jobs are failed in BullMQ, once.
    expect(await counts(queue)).toMatchObject({ waiting: 0, prioritized: 0, delayed: 0, active: 0, failed: 3 })
  })

  it('on abort takes no new job, finishes the jobs in hand, and only then resolves', async () => {
    const driver = newDriver()
    const queue = queueName()
    const opens = [1, 2].map((n) => gate(n))
    for (const n of [1, 2, 3]) await driver.push(envelope(new Ping(n)), { queue, delay: 0, priority: 0 })
    const consumer = consume(driver, [queue], { concurrency: 2 })
    await until('two jobs in hand', () => started.length === 2)
    let resolvedAt = 0
    const stopped = consumer.stop().then(() => (resolvedAt = Date.now()))
    for (const open of opens) open()
    await stopped
    expect(finished.map((run) => run.n).sort()).toEqual([1, 2])
    expect(resolvedAt).toBeGreaterThanOrEqual(Math.max(...finished.map((run) => run.at)))
    expect(consumer.outcomes.map((outcome) => outcome.kind)).toEqual(['done', 'done'])
    expect(await counts(queue)).toMatchObject({ active: 0, waiting: 1 })
    expect(started.map((run) => run.n)).toEqual([1, 2])
  })

  it('stopWhenEmpty resolves at once on empty queues, and after delayed jobs have run otherwise', async () => {
    const driver = newDriver()
    const [first, second] = [queueName(), queueName()]
    const idleStart = Date.now()
    await consume(driver, [first, second], { stopWhenEmpty: true, sleep: 5 }).done
    expect(Date.now() - idleStart).toBeLessThan(1000)

    await driver.push(envelope(new Ping(1)), { queue: first, delay: 0, priority: 0 })
    await driver.push(envelope(new Ping(2)), { queue: second, delay: 1, priority: 0 })
    const start = Date.now()
    await consume(driver, [first, second], { stopWhenEmpty: true, sleep: 5 }).done
    expect(finished.map((run) => run.n)).toEqual([1, 2])
    expect(Date.now() - start).toBeGreaterThanOrEqual(900)
    expect(await driver.size(first)).toBe(0)
    expect(await driver.size(second)).toBe(0)
  })

  it('warns when Redis may evict keys (maxmemory-policy other than noeviction)', async () => {
    const [, before] = (await admin.config('GET', 'maxmemory-policy')) as [string, string]
    expect(before).toBe('noeviction')
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru')
    try {
      await consume(newDriver(), [queueName()], { stopWhenEmpty: true }).done
    } finally {
      await admin.config('SET', 'maxmemory-policy', before)
    }
    expect(logs.filter((line) => line.startsWith('[warn]') && line.includes('maxmemory-policy "allkeys-lru"'))).toHaveLength(1)

    logs.length = 0
    await consume(newDriver(), [queueName()], { stopWhenEmpty: true }).done
    expect(logs.filter((line) => line.includes('maxmemory-policy'))).toEqual([])
  })

  it('close() is idempotent, stops running consumers, and refuses pushes afterwards', async () => {
    const driver = newDriver()
    const queue = queueName()
    const consumer = consume(driver, [queue], { sleep: 5 })
    await driver.push(envelope(new Ping(1)), { queue, delay: 0, priority: 0 })
    await until('the job to run', () => finished.length === 1)
    const closing = driver.close()
    expect(driver.close()).toBe(closing)
    await closing
    await consumer.done
    await expect(driver.push(envelope(new Ping(2)), { queue, delay: 0, priority: 0 })).rejects.toThrow(
      'Queue connection "bullmq" is closed',
    )
  })

  it('renews the lock of a job that outlives it, so no other consumer takes it as stalled', async () => {
    const [first, second] = [newDriver(), newDriver()]
    const queue = queueName()
    const open = gate(1)
    await first.push(envelope(new Ping(1)), { queue, delay: 0, priority: 0 })
    const holder = consume(first, [queue])
    await until('the job to start', () => started.length === 1)
    const other = consume(second, [queue])
    // Longer than a lapsed lock takes to be recovered (lock + 2 stalled checks): nothing to await.
    await new Promise((resolve) => setTimeout(resolve, (LOCK_SECONDS + 2 * STALLED_SECONDS + 1) * 1000))
    expect(started).toHaveLength(1)
    expect(logs.filter((line) => line.includes('stalled') || line.includes('Lost the lock'))).toEqual([])
    open()
    await until('the job to finish', () => finished.length === 1)
    await Promise.all([holder.stop(), other.stop()])
    expect(other.deliveries).toEqual([])
  }, 15_000)

  it('refuses to consume no queue at all, naming the fix', async () => {
    await expect(consume(newDriver(), []).done).rejects.toThrow('No queue to consume on connection "bullmq"')
  })

  it(
    'recovers the jobs of a consumer killed with SIGKILL: every job completes at least once, none is lost',
    async () => {
      const driver = newDriver()
      const queue = queueName('crash')
      const total = 24
      for (let n = 0; n < total; n++) await driver.push(JSON.stringify({ n }), { queue, delay: 0, priority: 0 })

      const child = spawnConsumer(queue, 4, 300)
      const inHand = new Set<number>()
      let done = 0
      const lines = createInterface({ input: child.process.stdout! })
      const drained = new Promise((resolve) => lines.once('close', resolve))
      lines.on('line', (line) => {
        const [what, n] = line.split(' ')
        if (what === 'start') inHand.add(Number(n))
        if (what === 'done') {
          inHand.delete(Number(n))
          done++
        }
      })
      await until('the child to finish some jobs and hold four', () => done >= 4 && inHand.size === 4, 20_000)
      child.process.kill('SIGKILL')
      await child.exited
      const killedAt = Date.now()
      // Lines written before the kill but not yet read count: a job that printed "done" was recorded.
      await drained
      const held = [...inHand]
      expect(held.length).toBeGreaterThan(0)
      // Started and not done: still active in Redis, locked by a dead process.
      expect((await counts(queue)).active).toBeGreaterThanOrEqual(held.length)

      const completedKey = `${PREFIX}:crash:completed`
      const recovered: Array<{ n: number; attempts: number; at: number }> = []
      const consumer = consume(driver, [queue], {
        concurrency: 4,
        stopWhenEmpty: true,
        process: async (job) => {
          const { n } = JSON.parse(job.payload) as { n: number }
          recovered.push({ n, attempts: job.attempts, at: Date.now() })
          await admin.rpush(completedKey, `${n}:${job.attempts}`)
          return { kind: 'done' }
        },
      })
      await consumer.done

      const completions = (await admin.lrange(completedKey, 0, -1)).map((entry) => Number(entry.split(':')[0]))
      const times = new Map<number, number>()
      for (const n of completions) times.set(n, (times.get(n) ?? 0) + 1)
      const lost = Array.from({ length: total }, (_, n) => n).filter((n) => !times.has(n))
      const duplicates = [...times].filter(([, count]) => count > 1).map(([n]) => n)
      console.info(
        `crash test: ${total} jobs, ${done} done before SIGKILL, ${held.length} in hand at the kill, ` +
          `${completions.length} completions, ${duplicates.length} duplicates, ${lost.length} lost; ` +
          `first recovered job ${Math.min(...recovered.filter((run) => held.includes(run.n)).map((run) => run.at)) - killedAt} ms after the kill`,
      )
      expect(lost).toEqual([])
      // The jobs held at the kill came back as their second delivery.
      for (const n of held) expect(recovered.find((run) => run.n === n)).toMatchObject({ attempts: 2 })
      // Recovery within lock duration + 2 stalled checks (plus slack for a loaded machine).
      const firstRecovered = Math.min(...recovered.filter((run) => held.includes(run.n)).map((run) => run.at))
      expect(firstRecovered - killedAt).toBeLessThan((LOCK_SECONDS + 2 * STALLED_SECONDS + 2) * 1000)
      expect(await counts(queue)).toMatchObject({ waiting: 0, prioritized: 0, active: 0, delayed: 0 })
    },
    60_000,
  )
})

function spawnConsumer(queue: string, concurrency: number, jobMs: number): { process: ChildProcess; exited: Promise<void> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'tests/support/bullmq-consumer-process.ts', REDIS_URL, PREFIX, queue, String(concurrency), String(jobMs)],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve()
      else reject(new Error(`The consumer process exited early (code ${code}, signal ${signal}): ${stderr}`))
    })
  })
  exited.catch(() => undefined)
  return { process: child, exited }
}
