import { describe, expect, it } from 'vitest'
import {
  Dispatchable,
  Dispatcher,
  Env,
  Event,
  Listener,
  MemoryFailedJobStore,
  QueueFake,
  QueueManager,
  ShouldDispatchAfterCommit,
  ShouldQueue,
  createLogger,
  type QueueOptions,
} from 'herald'
import { defaultConfig } from '../../src/foundation/config.ts'
import { runInTransaction } from '../../src/database/transactions.ts'
import { decodeValue, encodeValue, PayloadDecodeError, type EventClassRegistry } from '../../src/foundation/serializer.ts'

class Address {
  constructor(readonly city: string) {}
}
class OrderPlaced extends Dispatchable {
  constructor(
    readonly orderId: number,
    readonly placedAt = new Date('2026-11-23T10:00:00Z'),
  ) {
    super()
  }
}

/** A queue manager on the sync connection with failed jobs in memory, and its dispatcher. */
function setup() {
  const events = new Dispatcher()
  const failed = new MemoryFailedJobStore()
  const config = defaultConfig(new Env({ QUEUE_CONNECTION: 'sync' })).queue
  const manager = new QueueManager({
    config,
    events,
    database: () => {
      throw new Error('no database in this test')
    },
    discovery: () => undefined,
    logger: createLogger('silent'),
    failedJobs: async () => failed,
  })
  events.useQueue(manager)
  return { events, failed, manager }
}

describe('the payload serializer', () => {
  const registry: EventClassRegistry = {
    classFor: (name) => (name === 'OrderPlaced' ? OrderPlaced : undefined),
    nameOf: (instance) => (instance instanceof OrderPlaced ? 'OrderPlaced' : undefined),
  }
  const roundTrip = (value: unknown) => decodeValue(JSON.parse(JSON.stringify(encodeValue(value, registry))), registry)

  it('keeps Date, BigInt, Map, Set, undefined in arrays, and registered events with their prototype', () => {
    const value = {
      when: new Date('2026-01-02T03:04:05.678Z'),
      big: 12345678901234567890n,
      map: new Map<unknown, unknown>([['a', 1], [2, new Set(['x'])]]),
      list: [1, undefined, 'three'],
      nested: new OrderPlaced(9),
      tricky: { $t: 'Date', v: 'not a tag' },
    }
    const back = roundTrip(value) as typeof value
    expect(back.when).toEqual(value.when)
    expect(back.big).toBe(12345678901234567890n)
    expect(back.map).toEqual(value.map)
    expect(back.list).toEqual([1, undefined, 'three'])
    expect(back.nested).toBeInstanceOf(OrderPlaced)
    expect(back.nested.orderId).toBe(9)
    expect(back.nested.placedAt).toEqual(new Date('2026-11-23T10:00:00Z'))
    expect(back.tricky).toEqual({ $t: 'Date', v: 'not a tag' })
  })

  it('turns instances of unregistered classes into plain data', () => {
    const back = roundTrip({ address: new Address('Oslo') }) as { address: unknown }
    expect(back.address).toEqual({ city: 'Oslo' })
    expect(back.address).not.toBeInstanceOf(Address)
  })

  it('refuses an event class it does not know, naming it', () => {
    expect(() => decodeValue({ $t: 'Event', name: 'Ghost', v: {} }, registry)).toThrow(
      new PayloadDecodeError('Class "Ghost" is not registered: is it exported from app/events or app/jobs?'),
    )
  })
})

describe('queued listeners on the sync connection', () => {
  it('run through the pipeline with the event rebuilt, not in the dispatch', async () => {
    const { events } = setup()
    const seen: unknown[] = []
    class SendReceipt extends ShouldQueue(Listener.for(OrderPlaced)) {
      handle(event: OrderPlaced) {
        seen.push([event instanceof OrderPlaced, event.orderId, event.placedAt instanceof Date, this.attempts()])
      }
    }
    events.listen(OrderPlaced, SendReceipt)
    const [jobId] = await events.dispatch(new OrderPlaced(1))
    expect(typeof jobId).toBe('string')
    expect(seen).toEqual([[true, 1, true, 1]])
  })

  it('retries with the exact backoff list, calls failed() once, records the failed job, and rejects', async () => {
    const { events, failed } = setup()
    const starts: number[] = []
    const failures: string[] = []
    class Flaky extends ShouldQueue(Listener.for(OrderPlaced)) implements QueueOptions<OrderPlaced> {
      tries = 3
      backoff = [0.05, 0.15]
      handle() {
        starts.push(performance.now())
        throw new Error(`attempt ${this.attempts()} broke`)
      }
      failed(event: OrderPlaced, error: unknown) {
        failures.push(`${event.orderId}: ${(error as Error).message}`)
      }
    }
    events.listen(OrderPlaced, Flaky)
    await expect(events.dispatch(new OrderPlaced(2))).rejects.toThrow('attempt 3 broke')
    expect(starts).toHaveLength(3)
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(45)
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(145)
    expect(failures).toEqual(['2: attempt 3 broke'])
    const [row] = await failed.all()
    expect(row).toMatchObject({ connection: 'sync', queue: 'default' })
    expect(row!.exception).toContain('attempt 3 broke')
    expect(JSON.parse(row!.payload)).toMatchObject({ displayName: 'Flaky', attempts: 3, job: 'listener' })
  })

  it('release() runs the job again later, counting the attempt', async () => {
    const { events } = setup()
    const attempts: number[] = []
    class Patient extends ShouldQueue(Listener.for(OrderPlaced)) {
      tries = 5
      handle() {
        attempts.push(this.attempts())
        if (this.attempts() < 3) this.release(0)
      }
    }
    events.listen(OrderPlaced, Patient)
    await events.dispatch(new OrderPlaced(3))
    expect(attempts).toEqual([1, 2, 3])
  })

  it('fail() ends the job at once: no retry, failed() called', async () => {
    const { events, failed } = setup()
    let runs = 0
    let failedCalls = 0
    class Picky extends ShouldQueue(Listener.for(OrderPlaced)) {
      tries = 5
      handle() {
        runs++
        this.fail(new Error('not for us'))
      }
      failed() {
        failedCalls++
      }
    }
    events.listen(OrderPlaced, Picky)
    await expect(events.dispatch(new OrderPlaced(4))).rejects.toThrow('not for us')
    expect([runs, failedCalls, (await failed.all()).length]).toEqual([1, 1, 1])
  })

  it('times out an attempt, aborting its signal; failOnTimeout fails it without retry', async () => {
    const { events } = setup()
    const aborted: boolean[] = []
    class Slow extends ShouldQueue(Listener.for(OrderPlaced)) {
      tries = 3
      timeout = 0.05
      failOnTimeout = true
      async handle() {
        const signal = this.signal
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
        aborted.push(signal.aborted)
      }
    }
    events.listen(OrderPlaced, Slow)
    await expect(events.dispatch(new OrderPlaced(5))).rejects.toThrow('Slow timed out after 0.05 s.')
    await expect.poll(() => aborted).toEqual([true])
  })

  it('maxExceptions fails the job before tries run out', async () => {
    const { events } = setup()
    let runs = 0
    class Limited extends ShouldQueue(Listener.for(OrderPlaced)) {
      tries = 10
      maxExceptions = 2
      handle() {
        runs++
        throw new Error('again')
      }
    }
    events.listen(OrderPlaced, Limited)
    await expect(events.dispatch(new OrderPlaced(6))).rejects.toThrow('again')
    expect(runs).toBe(2)
  })

  it('retryUntil takes precedence over tries', async () => {
    const { events } = setup()
    let runs = 0
    class Deadline extends ShouldQueue(Listener.for(OrderPlaced)) {
      tries = 1
      backoff = 0.02
      retryUntil() {
        return new Date(Date.now() + 150)
      }
      handle() {
        runs++
        throw new Error('not yet')
      }
    }
    events.listen(OrderPlaced, Deadline)
    await expect(events.dispatch(new OrderPlaced(7))).rejects.toThrow()
    expect(runs).toBeGreaterThan(1)
  })

  it('shouldQueue(event) false skips the listener', async () => {
    const { events } = setup()
    const ran: number[] = []
    class BigOrdersOnly extends ShouldQueue(Listener.for(OrderPlaced)) {
      shouldQueue(event: OrderPlaced) {
        return event.orderId > 100
      }
      handle(event: OrderPlaced) {
        ran.push(event.orderId)
      }
    }
    events.listen(OrderPlaced, BigOrdersOnly)
    await events.dispatch(new OrderPlaced(1))
    await events.dispatch(new OrderPlaced(101))
    expect(ran).toEqual([101])
  })

  it('a ShouldQueue event is dispatched through the queue as a whole', async () => {
    const { events, manager } = setup()
    class ReportRequested extends ShouldQueue(Dispatchable) {
      constructor(readonly month: string) {
        super()
      }
    }
    const ran: string[] = []
    events.listen(ReportRequested, (event) => void ran.push(event.month))
    using fake = new QueueFake(manager)
    await events.dispatch(new ReportRequested('2026-10'))
    expect(ran).toEqual([])
    fake.assertPushed(ReportRequested, (event: ReportRequested) => event.month === '2026-10')
    fake.restore()
    await events.dispatch(new ReportRequested('2026-11'))
    expect(ran).toEqual(['2026-11'])
  })

  it('afterCommit listeners and ShouldDispatchAfterCommit events wait for the commit, and are dropped on rollback', async () => {
    const { events, manager } = setup()
    class Committed extends ShouldDispatchAfterCommit(Dispatchable) {
      constructor(readonly id: number) {
        super()
      }
    }
    const sync: number[] = []
    class AfterCommitListener extends ShouldQueue(Listener.for(OrderPlaced)) {
      afterCommit = true
      handle() {}
    }
    events.listen(Committed, (event) => void sync.push(event.id))
    events.listen(OrderPlaced, AfterCommitListener)
    using fake = new QueueFake(manager)
    const begin = <T>(body: (trx: null) => Promise<T>) => body(null)
    await runInTransaction(begin, async () => {
      await events.dispatch(new Committed(1))
      await events.dispatch(new OrderPlaced(1))
      expect(sync).toEqual([])
      fake.assertNothingPushed()
    })
    expect(sync).toEqual([1])
    fake.assertPushed(AfterCommitListener, 1)
    await expect(
      runInTransaction(begin, async () => {
        await events.dispatch(new Committed(2))
        await events.dispatch(new OrderPlaced(2))
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect(sync).toEqual([1])
    fake.assertCount(1)
  })
})

describe('Queue.fake()', () => {
  class SendReceipt extends ShouldQueue(Listener.for(OrderPlaced)) {
    queue = 'emails'
    handle() {
      throw new Error('must not run while faked')
    }
  }

  it('records pushes with their queue and event; assertions list what was pushed', async () => {
    const { events, manager } = setup()
    events.listen(OrderPlaced, SendReceipt)
    using fake = new QueueFake(manager)
    fake.assertNothingPushed()
    await events.dispatch(new OrderPlaced(10))
    await events.dispatch(new OrderPlaced(11))
    fake.assertPushed(SendReceipt)
    fake.assertPushed(SendReceipt, 2)
    fake.assertPushed('SendReceipt', (event: OrderPlaced) => event.orderId === 11)
    fake.assertPushedOn('emails', SendReceipt)
    fake.assertNotPushed(SendReceipt, (event: OrderPlaced) => event.orderId === 12)
    fake.assertCount(2)
    expect(fake.listenersPushed(SendReceipt, (event: OrderPlaced) => event.orderId > 10).map((job) => job.queue)).toEqual(['emails'])
    expect(() => fake.assertPushedOn('default', SendReceipt)).toThrow(
      /Expected "SendReceipt" to be pushed on queue "default", but it was not\.\nPushed jobs \(2\):\n {2}- SendReceipt on sync:emails OrderPlaced \{/,
    )
    expect(() => fake.assertNothingPushed()).toThrow('Expected no jobs to be pushed, but 2 were.')
  })

  it('events faked by Event.fake() are neither run nor queued', async () => {
    const { events, manager } = setup()
    events.listen(OrderPlaced, SendReceipt)
    using queue = new QueueFake(manager)
    const { EventFake } = await import('herald')
    using fake = new EventFake(events)
    await events.dispatch(new OrderPlaced(1))
    fake.assertDispatched(OrderPlaced)
    queue.assertNothingPushed()
    expect(Event).toBeDefined()
  })
})

describe('the job runner', () => {
  it('fails an undecodable payload or an unknown listener with the reason, without retrying', async () => {
    const { manager, failed } = setup()
    const runner = manager.runner('database', { tries: 3, backoff: 0, timeout: 0 })
    const garbage = await runner.process({ id: '1', queue: 'default', payload: '{not json', attempts: 1 })
    expect(garbage.kind).toBe('failed')
    const unknown = await runner.process({
      id: '2',
      queue: 'default',
      payload: JSON.stringify({ uuid: 'u-2', job: 'listener', displayName: 'Ghost', data: { listener: 'Ghost', event: 'OrderPlaced', payload: {} } }),
      attempts: 1,
    })
    expect(unknown.kind).toBe('failed')
    const rows = await failed.all()
    expect(rows.map((row) => row.exception.split('\n')[0])).toEqual([
      'JobFailedError: Listener "Ghost" is not a registered queued listener: is it exported from app/listeners and marked ShouldQueue?',
      expect.stringMatching(/^PayloadDecodeError: The job payload is not JSON/),
    ])
    expect(rows[1]!.payload).toBe('{not json')
  })
})
