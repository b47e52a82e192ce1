/**
 * BullMQ workers that heal (issue 12): poison job hashes are quarantined in failed_jobs, a Redis
 * that cannot be reached is an error naming it, and a worker rides out a Redis restart. Poison
 * hashes go into the shared Redis under a random prefix; outages use a Redis of the test's own,
 * on its own port (with an append-only file, so a restart keeps the jobs), never the shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Dispatchable, JobRunner, MemoryFailedJobStore, ShouldQueue, createLogger, type Logger } from 'herald'
import type { JobOutcome } from '../../src/queue/driver.ts'
import { BullmqDriver } from '../../src/queue/drivers/bullmq-driver.ts'
import { createEnvelope } from '../../src/queue/envelope.ts'
import type { EventClassRegistry } from '../../src/foundation/serializer.ts'
import { copyProject } from '../support/project-copy.ts'
import { OwnRedis, freePort } from '../support/own-redis.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const PREFIX = `herald-test-healing-${process.pid}-${randomBytes(4).toString('hex')}`

class Tick extends Dispatchable {
  constructor(readonly n: number) {
    super()
  }
}

/** Every run of a Tick, by number. */
const ran: number[] = []
/** How long each Tick takes, in ms. */
let tickMs = 2

class RecordTick extends ShouldQueue(class {}) {
  async handle(event: Tick): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, tickMs))
    ran.push(event.n)
  }
}

const registry: EventClassRegistry = {
  classFor: (name) => (name === 'Tick' ? Tick : undefined),
  nameOf: (instance) => (instance instanceof Tick ? 'Tick' : undefined),
}

function envelope(n: number, tries = 1): string {
  return JSON.stringify(
    createEnvelope(
      {
        displayName: 'RecordTick',
        job: 'listener',
        data: { listener: 'RecordTick', method: null, event: 'Tick', payload: new Tick(n) },
        maxTries: tries,
        maxExceptions: null,
        backoff: null,
        timeout: null,
        failOnTimeout: false,
        retryUntil: null,
      },
      registry,
    ),
  )
}

const logs: string[] = []
const logger: Logger = createLogger('debug', (line) => logs.push(line))
const drivers: BullmqDriver[] = []
let admin: Redis
let queueCount = 0

function queueName(): string {
  return `heal-${++queueCount}`
}

function newDriver(url: string, store?: MemoryFailedJobStore): BullmqDriver {
  const driver = new BullmqDriver('bullmq', {
    url,
    prefix: PREFIX,
    lockDuration: 2,
    stalledInterval: 1,
    logger,
    ...(store !== undefined && { failedJobs: async () => store }),
  })
  drivers.push(driver)
  return driver
}

function newRunner(store: MemoryFailedJobStore): JobRunner {
  return new JobRunner({
    connection: 'bullmq',
    registry,
    resolveListener: (name) => (name === 'RecordTick' ? { listener: RecordTick, method: 'handle' } : undefined),
    dispatchNow: async () => {
      throw new Error('This suite queues no ShouldQueue events.')
    },
    failedJobs: async () => store,
    logger,
  })
}

/** Re-checks `condition` every 20 ms until it holds; fails naming `what` after `timeout` ms. */
async function until(what: string, condition: () => boolean | Promise<boolean>, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}\n${logs.join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const ownRedises: OwnRedis[] = []
async function ownRedis(): Promise<OwnRedis> {
  const redis = await OwnRedis.start()
  ownRedises.push(redis)
  return redis
}

beforeAll(async () => {
  admin = new Redis(REDIS_URL, { maxRetriesPerRequest: null, connectTimeout: 2000, lazyConnect: true, retryStrategy: () => null })
  await admin.connect()
})

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()))
  await Promise.all(ownRedises.splice(0).map((redis) => redis.remove()))
  ran.length = 0
  logs.length = 0
  tickMs = 2
})

afterAll(async () => {
  for await (const batch of admin.scanStream({ match: `${PREFIX}:*`, count: 1000 }) as AsyncIterable<string[]>) {
    if (batch.length > 0) await admin.unlink(...batch)
  }
  await admin.quit()
})

const UNREACHABLE = /^Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(.*ECONNREFUSED.*\)$/

describe('bullmq poison jobs', () => {
  it('quarantines hashes BullMQ cannot decode in failed_jobs with their reason, and stopWhenEmpty returns', async () => {
    const queue = queueName()
    const store = new MemoryFailedJobStore()
    const driver = newDriver(REDIS_URL, store)
    const key = (id: string) => `${PREFIX}:${queue}:${id}`
    // Laid out as BullMQ lays out a job: a hash per id, the id on the wait list (LPUSH, taken from the right).
    await admin.hset(key('bad-data'), { name: 'job', data: 'not json', opts: '{}', timestamp: String(Date.now()) })
    await admin.hset(key('bad-opts'), { name: 'job', data: envelope(1), opts: '{not json', timestamp: String(Date.now()) })
    await admin.hset(key('no-data'), { name: 'job', timestamp: String(Date.now()) })
    await admin.lpush(`${PREFIX}:${queue}:wait`, 'bad-data', 'bad-opts', 'no-data', 'no-hash')
    await driver.push(envelope(2), { queue, delay: 0, priority: 0 })

    const warnings: string[] = []
    const outcomes: JobOutcome[] = []
    const runner = newRunner(store)
    const abort = new AbortController()
    const done = driver.consume({
      queues: [queue],
      concurrency: 1,
      sleep: 0.1,
      stopWhenEmpty: true,
      signal: abort.signal,
      warn: (message) => warnings.push(message),
      process: async (job) => {
        const outcome = await runner.process(job)
        outcomes.push(outcome)
        return outcome
      },
    })
    const timer = setTimeout(() => abort.abort(), 30_000)
    await done
    clearTimeout(timer)
    expect(abort.signal.aborted, 'stopWhenEmpty returned on its own').toBe(false)

    expect(ran).toEqual([2])
    const failed = await store.all()
    const reasons = failed.map((job) => job.exception).join('\n---\n')
    expect(reasons).toContain(`BullMQ job "bad-data" on queue "${queue}" cannot be decoded: its data is not JSON`)
    expect(reasons).toContain(`BullMQ job "bad-opts" on queue "${queue}" cannot be decoded: its opts are not JSON`)
    // A hash without data (or no hash at all) decodes as an empty object: the runner fails it.
    expect(reasons).toContain('envelope.uuid: a missing value is not a job id')
    expect(failed).toHaveLength(4)
    expect(failed.find((job) => job.exception.includes('"bad-data"'))?.payload).toBe('not json')
    expect(warnings.filter((line) => line.includes('cannot be decoded'))).toHaveLength(2)
    // Nothing left to deliver again, and the quarantined hashes are gone from Redis.
    const bull = new Queue(queue, { connection: admin, prefix: PREFIX })
    expect(await bull.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).toMatchObject({ waiting: 0, active: 0, delayed: 0, prioritized: 0 })
    await bull.close()
    expect(await admin.exists(key('bad-data'), key('bad-opts'))).toBe(0)
  })

  it('fails a job whose lock lapsed more often than its tries allow, with the reason, instead of running it again', async () => {
    const queue = queueName()
    const store = new MemoryFailedJobStore()
    const driver = newDriver(REDIS_URL, store)
    await driver.push(envelope(3, 1), { queue, delay: 0, priority: 0 })
    // A worker that takes the job and dies with it (never settles, never renews its lock).
    const dying = new Worker(queue, null, { connection: admin.duplicate(), prefix: PREFIX, autorun: false, lockDuration: 1000 })
    expect(await dying.getNextJob('dead-token', { block: false })).toBeDefined()
    await dying.close(true)

    const runner = newRunner(store)
    const abort = new AbortController()
    const outcomes: JobOutcome[] = []
    const done = driver.consume({
      queues: [queue],
      concurrency: 1,
      sleep: 0.1,
      stopWhenEmpty: true,
      signal: abort.signal,
      process: async (job) => {
        const outcome = await runner.process(job)
        outcomes.push(outcome)
        return outcome
      },
    })
    await done
    expect(ran).toEqual([])
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['failed'])
    const [failed] = await store.all()
    expect(failed?.exception).toContain('RecordTick has been attempted too many times')
  })
})

describe('bullmq with Redis unreachable', () => {
  it('rejects a dispatch with an error naming Redis and its address (not its password) within a few seconds', async () => {
    const port = await freePort()
    const driver = newDriver(`redis://herald:s3cret@127.0.0.1:${port}`)
    const started = Date.now()
    const error = await driver.push(envelope(4), { queue: 'q', delay: 0, priority: 0 }).then(
      () => null,
      (rejected: unknown) => rejected as Error,
    )
    expect(error?.name).toBe('ServiceUnreachableError')
    expect(error?.message).toMatch(UNREACHABLE)
    expect(error?.message).not.toContain('s3cret')
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('rejects a dispatch during an outage with the named error, and dispatches again once Redis is back', async () => {
    const redis = await ownRedis()
    const driver = newDriver(redis.url)
    const queue = queueName()
    await driver.push(envelope(5), { queue, delay: 0, priority: 0 })
    await redis.stop()
    const started = Date.now()
    await expect(driver.push(envelope(6), { queue, delay: 0, priority: 0 })).rejects.toThrow(UNREACHABLE)
    expect(Date.now() - started).toBeLessThan(12_000)
    await redis.start()
    await until('a push after the restart', () =>
      driver.push(envelope(7), { queue, delay: 0, priority: 0 }).then(
        () => true,
        () => false,
      ),
    )
    // The job pushed before the outage survived it (append-only file).
    expect(await driver.size(queue)).toBe(2)
  })

  it('keeps a worker through a Redis restart under load: one warning, then every job is processed, none lost', async () => {
    const redis = await ownRedis()
    const store = new MemoryFailedJobStore()
    const driver = newDriver(redis.url, store)
    const queue = queueName()
    const total = 300
    tickMs = 15
    for (let n = 1; n <= total; n++) await driver.push(envelope(n, 5), { queue, delay: 0, priority: 0 })

    const warnings: string[] = []
    const runner = newRunner(store)
    const abort = new AbortController()
    const done = driver.consume({
      queues: [queue],
      concurrency: 4,
      sleep: 0.1,
      stopWhenEmpty: false,
      signal: abort.signal,
      reconnect: { maxDisconnected: 60, baseDelay: 50, maxDelay: 500 },
      warn: (message) => warnings.push(message),
      process: (job) => runner.process(job),
    })
    await until('some jobs before the outage', () => ran.length >= 30)
    await redis.stop()
    expect(new Set(ran).size, 'jobs left when Redis went away').toBeLessThan(total - 50)
    await until('the outage warning', () => warnings.some((line) => line.includes('unreachable')))
    await redis.start()
    await until('every job', () => new Set(ran).size === total, 60_000)
    abort.abort()
    await done

    expect([...new Set(ran)].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    // At-least-once: only the jobs in hand when Redis went away may run twice.
    expect(ran.length - total).toBeLessThanOrEqual(4)
    expect(await store.all()).toEqual([])
    expect(warnings.filter((line) => line.includes('unreachable'))).toHaveLength(1)
    expect(warnings[0]).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(/)
  })

  it.each([
    ['within its lock', 0],
    ['after its lock lapsed', 2_500],
  ])('settles the job in hand once Redis is back (outage %s): it runs once and leaves Redis', async (_name, outageMs) => {
    const redis = await ownRedis()
    const driver = newDriver(redis.url)
    const queue = queueName()
    let open!: () => void
    const opened = new Promise<void>((resolve) => (open = resolve))
    let holding = false
    const store = new MemoryFailedJobStore()
    const runner = newRunner(store)
    const first = envelope(1, 3)
    const id = (JSON.parse(first) as { uuid: string }).uuid
    await driver.push(first, { queue, delay: 0, priority: 0 })
    const warnings: string[] = []
    const abort = new AbortController()
    const done = driver.consume({
      queues: [queue],
      concurrency: 1,
      sleep: 0.1,
      stopWhenEmpty: false,
      signal: abort.signal,
      warn: (message) => warnings.push(message),
      process: async (job) => {
        holding = true
        await opened
        return runner.process(job)
      },
    })
    await until('the job in hand', () => holding)
    await redis.stop()
    const stopped = Date.now()
    open()
    await until('the job to finish', () => ran.includes(1))
    // The lock (2 s) lapses by Redis's clock: an outage longer than it must still run the job once.
    await until(`an outage of ${outageMs} ms`, () => Date.now() - stopped >= outageMs)
    await redis.start()
    const check = new Redis(redis.url)
    try {
      await until('the job to leave Redis', async () => (await check.exists(`${PREFIX}:${queue}:${id}`)) === 0 && (await check.llen(`${PREFIX}:${queue}:active`)) === 0)
      // A later job runs after any stalled-job check had its chance to deliver the first again.
      await driver.push(envelope(2), { queue, delay: 0, priority: 0 })
      await until('the later job', () => ran.includes(2))
      await until('a stalled-job check', async () => Date.now() - stopped >= outageMs + 1_500)
    } finally {
      check.disconnect()
    }
    abort.abort()
    await done
    expect(ran).toEqual([1, 2])
    expect(await store.all()).toEqual([])
    // Past its lock, the job could not be completed with its token: it was removed instead.
    expect(logs.some((line) => line.includes('lost its lock while Redis was away: it had finished'))).toBe(outageMs > 0)
  })

  it('gives up (rejects with the named error) after maxDisconnected seconds without Redis', async () => {
    const redis = await ownRedis()
    const driver = newDriver(redis.url)
    const abort = new AbortController()
    const done = driver.consume({
      queues: ['connected'],
      concurrency: 1,
      sleep: 0.1,
      stopWhenEmpty: false,
      signal: abort.signal,
      reconnect: { maxDisconnected: 2, baseDelay: 50, maxDelay: 500 },
      warn: () => {},
      process: (job) => newRunner(new MemoryFailedJobStore()).process(job),
    })
    const outcome = done.then(
      () => null,
      (error: unknown) => error as Error,
    )
    await driver.push(envelope(8), { queue: 'connected', delay: 0, priority: 0 })
    await until('the consumer to be connected', () => ran.includes(8))
    await redis.stop()
    const stopped = Date.now()
    const error = await outcome
    abort.abort()
    expect(error?.message).toMatch(UNREACHABLE)
    expect(Date.now() - stopped).toBeLessThan(15_000)
  })
})

describe('the CLI with Redis unreachable', () => {
  const copy = copyProject()
  const children = new Set<ChildProcess>()
  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    copy.remove()
  })
  // An empty app: no listeners need booting for these commands.
  writeFileSync(join(copy.root, '.env'), 'QUEUE_CONNECTION=bullmq\nLOG_LEVEL=warn\n')

  function artisan(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
    const child = spawn(process.execPath, ['bin/artisan', ...args], {
      cwd: copy.root,
      env: { ...process.env, QUEUE_CONNECTION: 'bullmq', QUEUE_PREFIX: PREFIX, DB_CONNECTION: 'sqlite', DB_DATABASE: ':memory:', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(child)
    let text = ''
    child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    return { child, output: () => text, exited }
  }

  it.each([
    ['queue:work bullmq --once', ['queue:work', 'bullmq', '--once']],
    ['queue:monitor', ['queue:monitor', 'bullmq:default']],
  ])('%s exits 1 with one line naming Redis, without its password', async (_name, args) => {
    const port = await freePort()
    const run = artisan(args, { REDIS_URL: `redis://:s3cret@127.0.0.1:${port}` })
    const started = Date.now()
    const code = await run.exited
    expect(code, run.output()).toBe(1)
    expect(Date.now() - started).toBeLessThan(30_000)
    const errors = run.output().split('\n').filter((line) => line.includes('unreachable'))
    expect(errors, run.output()).toHaveLength(1)
    expect(errors[0]).toMatch(new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} is unreachable \\(.*ECONNREFUSED`))
    expect(run.output()).not.toContain('s3cret')
  })

  it('stops a worker on SIGTERM while Redis is down, within seconds, exit 0', async () => {
    const redis = await ownRedis()
    const run = artisan(['queue:work', 'bullmq', '--sleep=0.1'], { REDIS_URL: redis.url })
    // A job it can only fail shows that the worker is connected and working.
    const driver = newDriver(redis.url)
    await driver.push('not a job', { queue: 'default', delay: 0, priority: 0 })
    await until('the worker to take a job', () => run.output().includes('FAIL'), 30_000)
    await redis.stop()
    await until('the outage warning', () => run.output().includes('unreachable'), 30_000)
    const signalled = Date.now()
    run.child.kill('SIGTERM')
    expect(await run.exited, run.output()).toBe(0)
    expect(Date.now() - signalled).toBeLessThan(15_000)
  })
})
