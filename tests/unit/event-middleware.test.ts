import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Dispatchable, Dispatcher, EventValidationError, Event, REDACTED, createRedactor, currentEventContext, facadeRoot, ulid, withEventContext, type DispatchRecord, type EventMiddleware } from 'herald'

class OrderPlaced extends Dispatchable {
  constructor(
    readonly orderId: number,
    readonly total: number,
  ) {
    super()
  }
}

class Validated extends Dispatchable {
  static readonly schema = z.object({ orderId: z.number().int().positive(), email: z.email() })
  constructor(
    readonly orderId: number,
    readonly email: string,
  ) {
    super()
  }
}

function recorder(): EventMiddleware & { records: DispatchRecord[]; log: string[] } {
  const records: DispatchRecord[] = []
  const log: string[] = []
  return {
    name: 'Recorder',
    records,
    log,
    dispatching(record) {
      records.push(record)
      log.push(`dispatching ${record.name}`)
    },
    listener(record, listener, run) {
      log.push(`before ${listener.name}`)
      const result = run()
      log.push(`after ${listener.name}`)
      return result
    },
    dispatched(record, error) {
      log.push(`dispatched ${record.name}${error ? ' with an error' : ''}`)
    },
  }
}

describe('event middleware', () => {
  it('records each dispatch with a ULID; nested dispatches share the correlation id and name their cause', async () => {
    const events = new Dispatcher()
    const mw = recorder()
    events.use(mw)
    const seen: unknown[] = []
    events.listen(OrderPlaced, async function ReserveStock() {
      seen.push(currentEventContext())
      await events.dispatch('stock.reserved', { orderId: 1 })
    })
    events.listen('stock.reserved', function Note() {
      seen.push(currentEventContext())
    })
    await events.dispatch(new OrderPlaced(1, 30))

    const [root, child] = mw.records
    expect(root).toMatchObject({ name: 'OrderPlaced', causationId: null, replaying: false, redispatch: false })
    expect(root!.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(root!.correlationId).toBe(root!.id)
    expect(child).toMatchObject({ name: 'stock.reserved', causationId: root!.id, correlationId: root!.id, event: { orderId: 1 } })
    expect(seen).toEqual([
      { eventId: root!.id, correlationId: root!.id, causationId: null, replaying: false, trace: undefined },
      { eventId: child!.id, correlationId: root!.id, causationId: root!.id, replaying: false, trace: undefined },
    ])
    expect(mw.log).toEqual([
      'dispatching OrderPlaced',
      'before ReserveStock',
      'dispatching stock.reserved',
      'after ReserveStock',
      'before Note',
      'after Note',
      'dispatched stock.reserved',
      'dispatched OrderPlaced',
    ])
    expect(currentEventContext()).toBeUndefined()
  })

  it('sees a deferred dispatch once, when defer() releases it', async () => {
    const events = new Dispatcher()
    const mw = recorder()
    events.use(mw)
    const ran: string[] = []
    events.listen('ping', () => void ran.push('listener'))
    await events.defer(async () => {
      await events.dispatch('ping', {})
      expect(mw.records).toEqual([])
      expect(ran).toEqual([])
    })
    expect(mw.records.map((record) => record.name)).toEqual(['ping'])
    expect(ran).toEqual(['listener'])
  })

  it('takes the correlation id a request or a job set', async () => {
    const events = new Dispatcher()
    const mw = recorder()
    events.use(mw)
    await withEventContext({ correlationId: 'request-42' }, () => events.dispatch('ping', {}))
    expect(mw.records[0]).toMatchObject({ correlationId: 'request-42', causationId: null })
  })

  it('a failing dispatching hook stops the dispatch, unless onError takes the error', async () => {
    const events = new Dispatcher()
    const ran: string[] = []
    events.listen('ping', () => void ran.push('listener'))
    const remove = events.use({
      name: 'BrokenStore',
      dispatching() {
        throw new Error('disk full')
      },
    })
    await expect(events.dispatch('ping', {})).rejects.toThrow('disk full')
    expect(ran).toEqual([])

    const reported: string[] = []
    events.onError((error, _event, listener) => void reported.push(`${listener.name}@${listener.method}: ${(error as Error).message}`))
    await events.dispatch('ping', {})
    expect(reported).toEqual(['BrokenStore@dispatching: disk full'])
    expect(ran).toEqual(['listener'])

    remove()
    await events.dispatch('ping', {})
    expect(reported).toHaveLength(1)
  })

  it('sees no event a fake took', async () => {
    const events = facadeRoot().make('events')
    const mw = recorder()
    const remove = events.use(mw)
    try {
      using fake = Event.fake()
      await events.dispatch(new OrderPlaced(1, 1))
      fake.assertDispatched(OrderPlaced)
      expect(mw.records).toEqual([])
    } finally {
      remove()
    }
  })

  it('ulid() sorts by time and is monotonic within a millisecond', () => {
    const ids = Array.from({ length: 50 }, () => ulid(1_700_000_000_000))
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(50)
    expect(ulid(1_700_000_000_001) > ids.at(-1)!).toBe(true)
  })
})

describe('payload schemas', () => {
  it('refuses an event whose payload fails its static schema, before any listener runs', async () => {
    const events = new Dispatcher()
    const ran: number[] = []
    events.listen(Validated, (event) => void ran.push(event.orderId))
    await events.dispatch(new Validated(1, 'ada@example.test'))
    const failure = events.dispatch(new Validated(-2, 'nope'))
    await expect(failure).rejects.toBeInstanceOf(EventValidationError)
    await expect(failure).rejects.toThrow(/^Event "Validated" has an invalid payload: orderId: .+; email: .+/)
    expect(ran).toEqual([1])
  })
})

describe('createRedactor()', () => {
  class Card {
    constructor(
      readonly number: string,
      readonly holder: string,
    ) {}
  }

  it('masks key names at any depth, dotted paths and regexes, in a copy that keeps classes and types', () => {
    const redact = createRedactor(['password', 'card.number', /token$/i, 'items.secret'])
    const at = new Date('2026-11-23T00:00:00Z')
    const input = {
      user: { name: 'Ada', Password: 'hunter2', apiToken: 'abc' },
      card: new Card('4242', 'Ada'),
      other: { card: { number: 'kept: not the root path' } },
      items: [{ sku: 'A', secret: 's' }],
      at,
      tags: new Map([['accessToken', 'x'], ['plain', 'y']]),
    }
    const output = redact(input)
    expect(output).toEqual({
      user: { name: 'Ada', Password: REDACTED, apiToken: REDACTED },
      card: { number: REDACTED, holder: 'Ada' },
      other: { card: { number: 'kept: not the root path' } },
      items: [{ sku: 'A', secret: REDACTED }],
      at,
      tags: new Map([['accessToken', REDACTED], ['plain', 'y']]),
    })
    expect(output.card).toBeInstanceOf(Card)
    expect(output.at).toBe(at)
    expect(input.user.Password).toBe('hunter2')
  })

  it('is the identity without rules', () => {
    const value = { password: 'x' }
    expect(createRedactor([])(value)).toBe(value)
  })
})
