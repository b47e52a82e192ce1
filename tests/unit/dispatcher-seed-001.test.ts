// What seed 001 asks of the dispatcher beyond dispatch/listen: until(event, pick), forget one
// listener, Event.isFaking(), Laravel's viaConnection/viaQueue/withDelay, the EVENTS_* queue
// defaults, and (seed 000) `static concurrent = true`.
import { describe, expect, it } from 'vitest'
import { Dispatchable, Dispatcher, Event, QueueFake, ShouldQueue, createApplication, setFacadeRoot } from 'herald'
import { resolveQueueOptions } from '../../src/queue/queue-options.ts'

class QuoteRequested extends Dispatchable {
  constructor(readonly sku: string) {
    super()
  }
}

function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}

describe('until(event, pick)', () => {
  it('stops at the first response that pick turns into a value, and resolves to that value', async () => {
    const events = new Dispatcher()
    const ran: number[] = []
    events.listen(QuoteRequested, () => (ran.push(1), 12))
    events.listen(QuoteRequested, () => (ran.push(2), 8))
    events.listen(QuoteRequested, () => (ran.push(3), 5))
    const cheap = await events.until(new QuoteRequested('A-1'), (total) => ((total as number) < 10 ? `cheap at ${String(total)}` : null))
    expect(cheap).toBe('cheap at 8')
    expect(ran).toEqual([1, 2])
    events.listen('quote', () => 'fast')
    await expect(events.until('quote', { sku: 'B' }, (answer) => (answer === 'fast' ? 'picked' : null))).resolves.toBe('picked')
    await expect(events.until('quote', { sku: 'B' }, () => null)).resolves.toBeUndefined()
  })
})

describe('forget(event, listener)', () => {
  it('removes one listener of an event or pattern and keeps the others', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    const receipt = () => void seen.push('receipt')
    const audit = () => void seen.push('audit')
    const wildcard = () => void seen.push('wildcard')
    const other = () => void seen.push('other wildcard')
    events.listen(QuoteRequested, receipt)
    events.listen(QuoteRequested, audit)
    events.listen('Quote*', wildcard)
    events.listen('Quote*', other)
    events.forget(QuoteRequested, receipt)
    events.forget('Quote*', wildcard)
    await events.dispatch(new QuoteRequested('A'))
    expect(seen).toEqual(['audit', 'other wildcard'])
    events.forget(QuoteRequested, audit)
    expect(events.hasListeners('QuoteRequested')).toBe(true)
    events.forget('Quote*')
    expect(events.hasListeners(QuoteRequested)).toBe(false)
  })
})

describe('Event.isFaking()', () => {
  it('is true while a fake is installed and false once restored', () => {
    const app = createApplication({ loadConfig: false, envFile: false })
    setFacadeRoot(app)
    try {
      expect(Event.isFaking()).toBe(false)
      {
        using _fake = Event.fake()
        expect(Event.isFaking()).toBe(true)
      }
      expect(Event.isFaking()).toBe(false)
    } finally {
      setFacadeRoot(null)
    }
  })
})

describe("Laravel's viaConnection(), viaQueue(), withDelay(event)", () => {
  it('are read before the connection, queue and delay properties', () => {
    class Notify extends ShouldQueue(class {}) {
      connection = 'database'
      queue = 'low'
      delay = 5
      viaConnection(): string {
        return 'bullmq'
      }
      viaQueue(): string {
        return 'mail'
      }
      withDelay(event: QuoteRequested): number {
        return event.sku.length * 10
      }
      handle(): void {}
    }
    class Plain extends ShouldQueue(class {}) {
      queue = 'low'
      handle(): void {}
    }
    const event = new QuoteRequested('ABC')
    const options = resolveQueueOptions(Notify)
    expect([options.connection(event), options.queue(event), options.delay(event)]).toEqual(['bullmq', 'mail', 30])
    const plain = resolveQueueOptions(Plain)
    expect([plain.connection(event), plain.queue(event), plain.delay(event)]).toEqual([undefined, 'low', 0])
  })
})

describe('EVENTS_DEFAULT_QUEUE, EVENTS_RETRY_ATTEMPTS, EVENTS_RETRY_DELAY_SECONDS', () => {
  class Mailer extends ShouldQueue(class {}) {
    handle(): void {}
  }
  class Careful extends ShouldQueue(class {}) {
    queue = 'careful'
    tries = 9
    backoff = [2]
    handle(): void {}
  }

  async function pushed(env: Record<string, string>) {
    const app = createApplication({ loadConfig: false, envFile: false, env })
    await app.boot()
    try {
      const events = app.make('events')
      events.listen(QuoteRequested, Mailer)
      events.listen(QuoteRequested, Careful)
      using fake = new QueueFake(app.make('queue'))
      await events.dispatch(new QuoteRequested('A'))
      return { jobs: fake.pushed.map((job) => [job.queue, job.envelope.maxTries, job.envelope.backoff]), work: app.make('queue').workQueues() }
    } finally {
      await app.shutdown()
    }
  }

  it('are the queue, attempts and backoff of queued listeners that set none, and queue:work works the queue too', async () => {
    const set = await pushed({ QUEUE_CONNECTION: 'database', EVENTS_DEFAULT_QUEUE: 'events', EVENTS_RETRY_ATTEMPTS: '3', EVENTS_RETRY_DELAY_SECONDS: '60' })
    expect(set.jobs).toEqual([
      ['events', 3, [60]],
      ['careful', 9, [2]],
    ])
    expect(set.work).toEqual(['default', 'events'])
    const unset = await pushed({ QUEUE_CONNECTION: 'database' })
    expect(unset.jobs).toEqual([
      ['default', null, null],
      ['careful', 9, [2]],
    ])
    expect(unset.work).toEqual(['default'])
  })

  it('refuses attempts that are not a whole number of at least 1, naming the key', async () => {
    for (const bad of ['0', '2.5', 'three']) {
      const app = createApplication({ loadConfig: false, envFile: false, env: { EVENTS_RETRY_ATTEMPTS: bad } })
      await expect(app.boot()).rejects.toThrow(/^EVENTS_RETRY_ATTEMPTS must be a (whole )?number/)
      await app.shutdown()
    }
  })
})

describe('static concurrent = true', () => {
  it('starts every listener at once, keeps the responses in order up to a false, and reports every failure', async () => {
    class Fanned extends Dispatchable {
      static concurrent = true
    }
    const events = new Dispatcher()
    const started: string[] = []
    const slow = gate()
    events.listen(Fanned, async () => {
      started.push('a')
      await slow.opened
      return 'a'
    })
    events.listen(Fanned, async () => {
      started.push('b')
      return false
    })
    events.listen(Fanned, async () => {
      started.push('c')
      return 'c'
    })
    const dispatching = events.dispatch(new Fanned())
    expect(started).toEqual(['a', 'b', 'c'])
    slow.open()
    await expect(dispatching).resolves.toEqual(['a'])

    const failing = new Dispatcher()
    failing.listen(Fanned, async () => {
      throw new Error('first down')
    })
    failing.listen(Fanned, async () => 'ran')
    failing.listen(Fanned, () => {
      throw new Error('third down')
    })
    const error = await failing.dispatch(new Fanned()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AggregateError)
    expect((error as AggregateError).message).toBe('2 listeners failed for event "Fanned": Closure (first down), Closure (third down)')
  })

  it('runs one after another without the flag', async () => {
    const events = new Dispatcher()
    const started: string[] = []
    const slow = gate()
    events.listen(QuoteRequested, async () => {
      started.push('a')
      await slow.opened
    })
    events.listen(QuoteRequested, () => void started.push('b'))
    const dispatching = events.dispatch(new QuoteRequested('x'))
    expect(started).toEqual(['a'])
    slow.open()
    await dispatching
    expect(started).toEqual(['a', 'b'])
  })
})
