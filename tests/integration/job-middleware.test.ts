/**
 * Job middleware (issue 16) on the database queue (SQLite) and BullMQ (Redis), through real
 * workers: RateLimited releases a job over its limit until the window ends without using up its
 * tries, and its count is shared with a second worker process; ThrottlesExceptions stops running
 * a job after N exceptions for the rest of the window; Skip; a queued listener's middleware and
 * the 'throttle:N,M' shorthand. Counts live where the job's connection says (database / Redis).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  Dispatchable,
  Job,
  Limit,
  Listener,
  RateLimited,
  RateLimiter,
  ShouldQueue,
  Skip,
  ThrottlesExceptions,
  bootApplication,
  type Application,
  type JobMiddleware,
} from 'herald'
import { Migrator } from '../../src/database/migrator.ts'
import { Worker } from '../../src/queue/worker.ts'
import { projectRoot } from '../support/project-copy.ts'
import { SHARED_LIMIT, SharedLimited, defineSharedLimiter, reportTo } from '../support/rate-limited-jobs.ts'

const cases = [
  { name: 'database on SQLite', queue: 'database' },
  { name: 'bullmq on Redis', queue: 'bullmq' },
] as const

/** What the jobs saw, in order: `name#attempt`, and when. */
const runs: Array<{ job: string; attempt: number; at: number }> = []
const failures: string[] = []

class Upload extends Job {
  tries = 1
  constructor(readonly n: number) {
    super()
  }
  middleware(): JobMiddleware[] {
    return [new RateLimited('uploads')]
  }
  handle() {
    runs.push({ job: `Upload${this.n}`, attempt: this.attempts(), at: Date.now() })
  }
  failed(error: unknown) {
    failures.push(`Upload${this.n}: ${String(error)}`)
  }
}

class Digest extends Job {
  tries = 1
  constructor(readonly n: number) {
    super()
  }
  middleware(): JobMiddleware[] {
    return [new RateLimited('digests').dontRelease()]
  }
  handle() {
    runs.push({ job: `Digest${this.n}`, attempt: this.attempts(), at: Date.now() })
  }
}

class Misnamed extends Job {
  middleware(): JobMiddleware[] {
    return [new RateLimited('no-such-limiter')]
  }
  handle() {
    runs.push({ job: 'Misnamed', attempt: this.attempts(), at: Date.now() })
  }
}

/** Calls a service that fails until `service.up`. */
const service = { up: false }
class CallService extends Job {
  tries = 10
  middleware(): JobMiddleware[] {
    return [new ThrottlesExceptions(2, 2)]
  }
  handle() {
    runs.push({ job: 'CallService', attempt: this.attempts(), at: Date.now() })
    if (!service.up) throw new Error('service down')
  }
  failed(error: unknown) {
    failures.push(`CallService: ${String(error)}`)
  }
}

class Remind extends Job {
  constructor(
    readonly n: number,
    readonly cancelled: boolean,
  ) {
    super()
  }
  middleware(): JobMiddleware[] {
    return [Skip.when((job: Remind) => job.cancelled), Skip.unless(this.n !== 0)]
  }
  handle() {
    runs.push({ job: `Remind${this.n}`, attempt: this.attempts(), at: Date.now() })
  }
}

class OrderPlaced extends Dispatchable {
  constructor(readonly n: number) {
    super()
  }
}

const order: string[] = []

class AuditOrder extends ShouldQueue(Listener.for(OrderPlaced)) {
  tries = 1
  middleware(event: OrderPlaced): JobMiddleware<AuditOrder>[] {
    return [
      async (listener, next) => {
        order.push(`outer in ${listener instanceof AuditOrder}`)
        await next()
        order.push('outer out')
      },
      Skip.when(event.n === 0),
    ]
  }
  handle(event: OrderPlaced) {
    order.push(`handle ${event.n} attempt ${this.attempts()}`)
  }
}

class SyncCrm extends ShouldQueue(Listener.for(OrderPlaced)) {
  tries = 1
  middleware = ['throttle:2,1']
  handle(event: OrderPlaced) {
    runs.push({ job: `SyncCrm${event.n}`, attempt: this.attempts(), at: Date.now() })
  }
}

class Misthrottled extends ShouldQueue(Listener.for(OrderPlaced)) {
  tries = 3
  middleware = ['throttle:ten']
  handle(event: OrderPlaced) {
    runs.push({ job: `Misthrottled${event.n}`, attempt: this.attempts(), at: Date.now() })
  }
}

describe.each(cases.map((c) => [c.name, c] as const))('job middleware: %s', (_name, driverCase) => {
  let app: Application
  let env: Record<string, string>
  const workers: Worker[] = []

  beforeAll(async () => {
    const base = mkdtempSync(join(tmpdir(), 'herald-job-middleware-'))
    env = {
      LOG_LEVEL: 'silent',
      EVENTS_DISCOVERY: 'false',
      DB_CONNECTION: 'sqlite',
      DB_DATABASE: join(base, 'database.sqlite'),
      QUEUE_CONNECTION: driverCase.queue,
      QUEUE_PREFIX: `job-middleware-${process.pid}-${Date.now()}`,
      QUEUE_PREFETCH: '0',
    }
    app = await bootApplication({ basePath: base, envFile: false, loadConfig: false, env })
    await new Migrator(await app.make('db').connection(), join(projectRoot, 'database', 'migrations')).latest()
    app.make('bus').serializable(Upload, Digest, Misnamed, CallService, Remind, SharedLimited)
  })
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()))
    runs.length = 0
    failures.length = 0
    order.length = 0
    app.make('events').forget(OrderPlaced)
  })
  afterAll(async () => {
    await app?.shutdown()
  })

  function startWorker(): Worker {
    const worker = new Worker(app.make('queue'), {
      connection: driverCase.queue,
      queues: ['default'],
      concurrency: 1,
      defaults: { tries: 1, backoff: 0, timeout: 30 },
      sleep: 0.02,
      stopWhenEmpty: false,
      maxJobs: 0,
      maxTime: 0,
      memory: 0,
    })
    workers.push(worker)
    void worker.run()
    return worker
  }

  async function waiting(): Promise<number> {
    return (await app.make('queue').connection(driverCase.queue)).size('default')
  }

  it('counts in the store of the job’s connection: Redis for bullmq, the database otherwise', () => {
    expect(app.make('jobs.limits').place(driverCase.queue).store).toBe(driverCase.queue === 'bullmq' ? 'redis' : 'database')
  })

  it('releases a RateLimited job over its limit until the window ends, and it runs then without using up its try', async () => {
    RateLimiter.for('uploads', () => Limit.perSecond(2))
    const started = Date.now()
    for (let n = 1; n <= 5; n++) await Upload.dispatch(n)
    startWorker()
    await expect.poll(() => runs.length, { timeout: 15_000, interval: 20 }).toBe(5)
    // tries = 1: a counted release would have failed the job on its next delivery.
    expect(runs.every((run) => run.attempt === 1)).toBe(true)
    expect(failures).toEqual([])
    const times = runs.map((run) => run.at).sort((a, b) => a - b)
    // 2 per second: the third and fifth wait for the next windows.
    expect(times[2]! - started).toBeGreaterThanOrEqual(900)
    expect(times[4]! - started).toBeGreaterThanOrEqual(1_800)
    expect(await waiting()).toBe(0)
  })

  it('dontRelease() deletes the jobs over the limit; an undefined limiter fails the job naming the fix', async () => {
    RateLimiter.for('digests', (job: Digest) => Limit.perMinute(1).by(job.n % 2))
    for (let n = 1; n <= 4; n++) await Digest.dispatch(n)
    await Misnamed.dispatch()
    startWorker()
    await expect
      .poll(async () => (await (await app.make('queue').failedJobs()).all()).filter((row) => row.payload.includes('Misnamed')).length, { timeout: 10_000, interval: 20 })
      .toBe(1)
    await expect.poll(waiting, { timeout: 10_000, interval: 20 }).toBe(0)
    // One per key (odd and even n) ran; the others were deleted without running.
    expect(runs.map((run) => run.job).sort()).toEqual(['Digest1', 'Digest2'])
    const failed = (await (await app.make('queue').failedJobs()).all()).find((row) => row.payload.includes('Misnamed'))!
    expect(failed.exception.split('\n')[0]).toContain(`Rate limiter "no-such-limiter" is not defined: define it with RateLimiter.for('no-such-limiter'`)
  })

  it('shares the count with a second worker process on the same store', async () => {
    defineSharedLimiter()
    const lines: string[] = []
    reportTo((line) => lines.push(line))
    const child = spawnWorker(env, lines)
    try {
      await child.ready
      const started = Date.now()
      const total = SHARED_LIMIT.jobs * 2 + 1
      for (let n = 1; n <= total; n++) await SharedLimited.dispatch(n, `tenant-${driverCase.queue}`)
      startWorker()
      await expect.poll(() => lines.length, { timeout: 20_000, interval: 20 }).toBe(total)
      const seen = lines.map((line) => line.split(' ')).map(([, n, attempt, at, pid]) => ({ n: Number(n), attempt: Number(attempt), at: Number(at), pid }))
      expect(new Set(seen.map((run) => run.n)).size).toBe(total)
      expect(seen.every((run) => run.attempt === 1)).toBe(true)
      const times = seen.map((run) => run.at).sort((a, b) => a - b)
      // Two workers each counting alone would run 2 × 3 jobs in the first window; shared, 3 per window.
      const window = SHARED_LIMIT.seconds * 1000
      expect(times.filter((at) => at < started + window - 100).length).toBeLessThanOrEqual(SHARED_LIMIT.jobs)
      expect(times[SHARED_LIMIT.jobs * 2]! - started).toBeGreaterThanOrEqual(2 * window - 200)
      // Both processes took part.
      expect(new Set(seen.map((run) => run.pid)).size).toBe(2)
    } finally {
      await child.stop()
    }
  })

  it('ThrottlesExceptions: after 2 exceptions in the window the job is held until the window ends, then runs', async () => {
    service.up = false
    await CallService.dispatch()
    startWorker()
    await expect.poll(() => runs.length, { timeout: 10_000, interval: 20 }).toBe(2)
    const heldAt = Date.now()
    service.up = true
    await expect.poll(() => runs.length, { timeout: 10_000, interval: 20 }).toBe(3)
    // The third run waited for the window (2 s from the first exception), and its held release was not an attempt.
    expect(runs[2]!.at - runs[0]!.at).toBeGreaterThanOrEqual(1_800)
    expect(runs[2]!.at).toBeGreaterThan(heldAt)
    expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3])
    expect(failures).toEqual([])
    await expect.poll(waiting, { timeout: 5_000, interval: 20 }).toBe(0)
  })

  it('Skip.when / Skip.unless delete the job without running it', async () => {
    await Remind.dispatch(1, true)
    await Remind.dispatch(0, false)
    await Remind.dispatch(2, false)
    startWorker()
    await expect.poll(waiting, { timeout: 10_000, interval: 20 }).toBe(0)
    await expect.poll(() => runs.map((run) => run.job), { timeout: 5_000, interval: 20 }).toEqual(['Remind2'])
  })

  it('runs a queued listener’s middleware(event) around its handle on the worker, with the listener as the job', async () => {
    app.make('events').listen(OrderPlaced, AuditOrder)
    startWorker()
    await app.make('events').dispatch(new OrderPlaced(0))
    await app.make('events').dispatch(new OrderPlaced(1))
    await expect.poll(() => order, { timeout: 10_000, interval: 20 }).toEqual(['outer in true', 'outer out', 'outer in true', 'handle 1 attempt 1', 'outer out'])
  })

  it("'throttle:2,1' on a listener: 2 runs a minute, the third waits on the queue with its try unused", async () => {
    app.make('events').listen(OrderPlaced, SyncCrm)
    for (let n = 1; n <= 3; n++) await app.make('events').dispatch(new OrderPlaced(n))
    startWorker()
    await expect.poll(() => runs.length, { timeout: 10_000, interval: 20 }).toBe(2)
    await expect.poll(waiting, { timeout: 10_000, interval: 20 }).toBe(1)
    expect(failures).toEqual([])
    if (driverCase.queue === 'database') {
      // The waiting job's envelope carries the release that was not an attempt.
      const [row] = await (await app.make('db').connection())('jobs').select('payload', 'attempts')
      expect(JSON.parse(row.payload as string)).toMatchObject({ attempts: 0, uncounted: 1 })
    }
    const failed = await (await app.make('queue').failedJobs()).all()
    expect(failed.filter((row) => row.payload.includes('SyncCrm'))).toEqual([])
  })

  it('a listener naming unknown middleware fails at once (no retry), with one line naming the fix', async () => {
    app.make('events').listen(OrderPlaced, Misthrottled)
    await app.make('events').dispatch(new OrderPlaced(1))
    startWorker()
    const failedRows = async () => (await (await app.make('queue').failedJobs()).all()).filter((row) => row.payload.includes('Misthrottled'))
    await expect.poll(async () => (await failedRows()).length, { timeout: 10_000, interval: 20 }).toBe(1)
    expect((await failedRows())[0]!.exception.split('\n')[0]).toContain(`Listener "Misthrottled" names the middleware "throttle:ten", which Herald does not know`)
    expect(runs).toEqual([])
  })
})

describe('job middleware: bad input', () => {
  it('Limit, RateLimited, ThrottlesExceptions and Skip reject bad arguments with one line naming the fix', () => {
    expect(() => Limit.perMinute(0)).toThrow('Limit.perMinute(0): the number of jobs must be a whole number of 1 or more.')
    expect(() => Limit.perSecond(2, 0.5)).toThrow('Limit.perSecond(2, 0.5): the window must be a whole number of 1 or more.')
    expect(() => new RateLimited('')).toThrow('the name must be a non-empty string')
    expect(() => new RateLimited('x').releaseAfter(-1)).toThrow('RateLimited.releaseAfter(-1): seconds must be a number of 0 or more.')
    expect(() => new ThrottlesExceptions(0)).toThrow('the number of exceptions must be a whole number of 1 or more')
    expect(() => Skip.when('yes' as unknown as boolean)).toThrow('Skip.when(yes): the condition must be a boolean or a function of the job.')
    expect(() => RateLimiter.for('bad', 'nope' as never)).toThrow("RateLimiter.for('bad', ...): the second argument must be a function")
    RateLimiter.for('wrong', () => 10 as unknown as Limit)
    expect(() => RateLimiter.limitsFor('wrong', {})).toThrow('Rate limiter "wrong" returned 10, not a Limit')
  })
})

/** The second worker process, once it printed "ready"; its `ran …` lines go to `lines`. */
function spawnWorker(env: Record<string, string>, lines: string[]): { ready: Promise<void>; stop: () => Promise<void> } {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'tests/support/rate-limited-worker-process.ts'], {
    cwd: projectRoot,
    env: { ...process.env, HERALD_TEST_ENV: JSON.stringify(env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') resolve()
      else if (line.startsWith('ran ')) lines.push(line)
    })
    void exited.then(() => reject(new Error(`The second worker exited before it was ready: ${stderr}`)))
  })
  return {
    ready,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
