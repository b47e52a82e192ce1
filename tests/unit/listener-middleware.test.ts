/**
 * The queue's side of job middleware, without services: a queued listener's middleware(event)
 * around its handle (on the sync connection, through the real runner), a release that is not an
 * attempt (RunningJob.releaseUncounted: the next delivery is the same attempt, tries untouched),
 * the named-middleware errors, and RateLimited / ThrottlesExceptions options on the memory store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Dispatchable,
  Dispatcher,
  Env,
  Limit,
  Listener,
  MemoryFailedJobStore,
  QueueManager,
  RateLimited,
  RateLimiter,
  ShouldQueue,
  Skip,
  ThrottlesExceptions,
  createLogger,
  type JobMiddleware,
} from 'herald'
import { defaultConfig } from '../../src/foundation/config.ts'
import { JobRateLimits, useRateLimits } from '../../src/jobs/middleware/rate-limit-store.ts'
import { namedMiddleware } from '../../src/jobs/middleware/named-middleware.ts'
import { runningJobOf } from '../../src/jobs/middleware/running.ts'
import { parseEnvelope } from '../../src/queue/envelope.ts'

class Ping extends Dispatchable {
  constructor(readonly n: number) {
    super()
  }
}

function setup() {
  const events = new Dispatcher()
  const failed = new MemoryFailedJobStore()
  const manager = new QueueManager({
    config: defaultConfig(new Env({ QUEUE_CONNECTION: 'sync' })).queue,
    events,
    database: () => {
      throw new Error('no database in this test')
    },
    discovery: () => undefined,
    logger: createLogger('silent'),
    failedJobs: async () => failed,
  })
  events.useQueue(manager)
  return { events, failed }
}

describe('queued listener middleware', () => {
  it('runs middleware(event) outermost first around handle, with the listener as the job; Skip skips it', async () => {
    const { events } = setup()
    const seen: string[] = []
    class Audited extends ShouldQueue(Listener.for(Ping)) {
      middleware(event: Ping): JobMiddleware<Audited>[] {
        return [
          async (listener, next) => {
            seen.push(`outer in ${listener === this}`)
            await next()
            seen.push('outer out')
          },
          { handle: (_listener: Audited, next: () => Promise<unknown>) => (seen.push('inner'), next()) },
          Skip.unless(event.n > 0),
        ]
      }
      handle(event: Ping) {
        seen.push(`handle ${event.n}`)
      }
    }
    events.listen(Ping, Audited)
    await events.dispatch(new Ping(0))
    await events.dispatch(new Ping(1))
    expect(seen).toEqual(['outer in true', 'inner', 'outer out', 'outer in true', 'inner', 'handle 1', 'outer out'])
  })

  it('a release without counting the attempt keeps attempts() and the tries; a counted one uses them up', async () => {
    const { events, failed } = setup()
    const attempts: number[] = []
    let holds = 3
    class Held extends ShouldQueue(Listener.for(Ping)) {
      tries = 1
      middleware = [
        (listener: object, next: () => Promise<unknown>) => {
          if (holds-- > 0) return runningJobOf(listener)!.releaseUncounted(0)
          return next()
        },
      ]
      handle() {
        attempts.push(this.attempts())
      }
    }
    events.listen(Ping, Held)
    await events.dispatch(new Ping(1))
    expect(attempts).toEqual([1])
    expect(await failed.all()).toEqual([])
    events.forget(Ping)

    class Counted extends ShouldQueue(Listener.for(Ping)) {
      tries = 2
      middleware = [(listener: object) => runningJobOf(listener)!.release(0)]
      handle() {}
    }
    events.listen(Ping, Counted)
    await expect(events.dispatch(new Ping(2))).rejects.toThrow('has been attempted too many times.')
    const [row] = await failed.all()
    // Not "lease lapsed": the runner's own count and the envelope's agree.
    expect(row!.exception.split('\n')[0]).not.toContain('lapsed')
  })

  it('a listener naming middleware without the jobs layer fails with one line; a middleware that is neither a function nor { handle } too', async () => {
    const { events, failed } = setup()
    class Named extends ShouldQueue(Listener.for(Ping)) {
      middleware = ['throttle:10,1']
      handle() {}
    }
    events.listen(Ping, Named)
    await expect(events.dispatch(new Ping(1))).rejects.toThrow(`uses the middleware "throttle:10,1", which needs the jobs layer (JobsServiceProvider)`)
    events.forget(Ping)
    class Broken extends ShouldQueue(Listener.for(Ping)) {
      middleware = [42]
      handle() {}
    }
    events.listen(Ping, Broken)
    await expect(events.dispatch(new Ping(1))).rejects.toThrow(`'s middleware #1 is neither a function nor an object with handle(job, next).`)
    expect(await failed.all()).toHaveLength(2)
  })

  it("'throttle:<jobs>,<minutes>' is the only named middleware; anything else names the fix", () => {
    expect(namedMiddleware('throttle:10,1', 'SyncCrm').limiterName).toBe('throttle:SyncCrm')
    expect(namedMiddleware('throttle:5', 'SyncCrm').limiterName).toBe('throttle:SyncCrm')
    expect(() => namedMiddleware('throttle:ten', 'SyncCrm')).toThrow(
      `Listener "SyncCrm" names the middleware "throttle:ten", which Herald does not know: the named middleware is 'throttle:<jobs>,<minutes>' (e.g. 'throttle:10,1').`,
    )
    expect(() => namedMiddleware('throttle:0,1', 'SyncCrm')).toThrow('needs at least 1 job per at least 1 minute')
  })

  it('an envelope with a bad uncounted field is refused with its reason', () => {
    const envelope = { uuid: 'u', job: 'listener', data: { listener: 'L', event: 'E', payload: null }, uncounted: -1 }
    expect(() => parseEnvelope(JSON.stringify(envelope))).toThrow('envelope.uncounted')
  })
})

describe('RateLimited and ThrottlesExceptions options (memory store, sync connection)', () => {
  const limits = new JobRateLimits({
    queue: { ...defaultConfig(new Env({ QUEUE_CONNECTION: 'sync' })).queue, limiter: { store: 'memory' } },
    database: () => {
      throw new Error('no database in this test')
    },
  })
  beforeAll(() => useRateLimits(limits))
  afterAll(() => useRateLimits(null))

  it('dontRelease() drops the listener runs over the limit; countAttempts() makes the releases count', async () => {
    const { events, failed } = setup()
    const ran: number[] = []
    RateLimiter.for('unit-drop', () => Limit.perMinute(2))
    class Dropping extends ShouldQueue(Listener.for(Ping)) {
      middleware = [new RateLimited('unit-drop').dontRelease()]
      handle(event: Ping) {
        ran.push(event.n)
      }
    }
    events.listen(Ping, Dropping)
    for (let n = 1; n <= 3; n++) await events.dispatch(new Ping(n))
    expect(ran).toEqual([1, 2])
    events.forget(Ping)

    RateLimiter.for('unit-count', () => Limit.perMinute(1))
    class Counting extends ShouldQueue(Listener.for(Ping)) {
      tries = 2
      middleware = [new RateLimited('unit-count').releaseAfter(0).countAttempts()]
      handle(event: Ping) {
        ran.push(event.n)
      }
    }
    events.listen(Ping, Counting)
    await events.dispatch(new Ping(4))
    await expect(events.dispatch(new Ping(5))).rejects.toThrow('has been attempted too many times.')
    expect(ran).toEqual([1, 2, 4])
    expect(await failed.all()).toHaveLength(1)
  })

  it('ThrottlesExceptions counts only what when() accepts, under by(key), and releases instead of failing', async () => {
    const { events } = setup()
    let error = new Error('fatal')
    class CallsCrm extends ShouldQueue(Listener.for(Ping)) {
      tries = 2
      middleware = [new ThrottlesExceptions(5, 60).by('crm').when((thrown) => (thrown as Error).message === 'retryable')]
      handle() {
        throw error
      }
    }
    events.listen(Ping, CallsCrm)
    await expect(events.dispatch(new Ping(1))).rejects.toThrow('fatal')
    expect((await limits.peek('sync', 'throttles-exceptions:crm', 5, 60)).consumed).toBe(0)
    error = new Error('retryable')
    // Released after each counted exception (backoff 0), until the tries are used up.
    await expect(events.dispatch(new Ping(2))).rejects.toThrow('has been attempted too many times.')
    expect((await limits.peek('sync', 'throttles-exceptions:crm', 5, 60)).consumed).toBe(2)
  })
})
