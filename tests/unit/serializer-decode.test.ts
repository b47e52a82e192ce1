/**
 * Decoding what a queue hands back trusts nothing: random JSON and random corruptions of valid
 * envelopes fail with a PayloadDecodeError naming the field, never with a raw JavaScript error
 * (issue 12, problem 4), and such a job lands in failed jobs with that reason.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Dispatchable, Dispatcher, Env, MemoryFailedJobStore, PayloadDecodeError, QueueManager, ShouldQueue, createLogger } from 'herald'
import { defaultConfig } from '../../src/foundation/config.ts'
import { decodePayload, parseEnvelope } from '../../src/queue/envelope.ts'
import { MAX_DEPTH, decodeValue, encodeValue, type EventClassRegistry } from '../../src/foundation/serializer.ts'

class Order {
  constructor(
    readonly id = 1,
    readonly placedAt = new Date('2026-11-23T10:00:00Z'),
  ) {}
}
class OrderPlaced extends Dispatchable {
  constructor(readonly order: Order = new Order()) {
    super()
  }
}
class Shipped extends ShouldQueue(Dispatchable) {
  constructor(readonly carrier = 'ups') {
    super()
  }
}

const registry: EventClassRegistry = {
  classFor: (name) => ({ OrderPlaced, Shipped })[name as 'OrderPlaced' | 'Shipped'],
  nameOf: (instance) => (instance instanceof OrderPlaced ? 'OrderPlaced' : instance instanceof Shipped ? 'Shipped' : undefined),
}

const decode = (value: unknown) => decodeValue(value, registry)

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

function decodeError(value: unknown): PayloadDecodeError {
  const error = thrown(() => decode(value))
  expect(error).toBeInstanceOf(PayloadDecodeError)
  return error as PayloadDecodeError
}

describe('decoding refuses what it cannot rebuild, naming the field', () => {
  it('a Date that is not a valid date (it used to reach the listener as Invalid Date)', () => {
    const error = decodeError({ $t: 'Event', name: 'OrderPlaced', v: { order: { placedAt: { $t: 'Date', v: 'not a date' } } } })
    expect(error.message).toBe('payload.order.placedAt: "not a date" is not a valid Date')
    expect(error.path).toBe('payload.order.placedAt')
    expect(decodeError({ when: { $t: 'Date', v: 12 } }).message).toBe('payload.when: 12 is not a valid Date')
    expect(decodeError({ when: { $t: 'Date' } }).message).toBe('payload.when: a missing value is not a valid Date')
  })

  it('a BigInt that is not decimal integer text (it used to be "Cannot convert 12abc to a BigInt")', () => {
    expect(decodeError({ total: { $t: 'BigInt', v: '12abc' } }).message).toBe('payload.total: "12abc" is not a BigInt (decimal integer text)')
    // BigInt() itself would take these: hex, blanks, the empty string.
    for (const v of ['0x1f', ' 12 ', '', 12]) expect(decodeError({ total: { $t: 'BigInt', v } }).path).toBe('payload.total')
    expect(decode({ total: { $t: 'BigInt', v: '-12345678901234567890' } })).toEqual({ total: -12345678901234567890n })
  })

  it('a Map or Set whose value is not a list (it used to be "tagged.v.map is not a function")', () => {
    expect(decodeError({ prices: { $t: 'Map', v: 'x' } }).message).toBe('payload.prices: "x" is not a Map (a list of [key, value] pairs)')
    expect(decodeError({ prices: { $t: 'Map', v: [['a', 1], ['b']] } }).message).toBe('payload.prices[entry 1]: ["b"] is not a [key, value] pair')
    expect(decodeError({ prices: { $t: 'Map', v: [['a', { $t: 'BigInt', v: 'x' }]] } }).path).toBe('payload.prices[entry 0 value]')
    expect(decodeError({ prices: { $t: 'Map', v: [[{ $t: 'Date', v: '' }, 1]] } }).path).toBe('payload.prices[entry 0 key]')
    expect(decodeError({ tags: { $t: 'Set', v: { a: 1 } } }).message).toBe('payload.tags: {"a":1} is not a Set (a list of items)')
    expect(decodeError({ tags: { $t: 'Set', v: [1, { $t: 'Date', v: 'x' }] } }).path).toBe('payload.tags[1]')
  })

  it('nesting past the bound, without overflowing the stack (it used to be "Maximum call stack size exceeded")', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown
    const error = decodeError(deep)
    expect(error.reason).toBe(`nested deeper than ${MAX_DEPTH} levels`)
    expect(error.path).toMatch(/^payload\[0\]\[0\].*more.*\[0\]$/)
    // Exactly at the bound decodes; one more level does not, both ways.
    const nest = (levels: number): unknown => (levels === 1 ? {} : { a: nest(levels - 1) })
    expect(decode(nest(MAX_DEPTH))).toEqual(nest(MAX_DEPTH))
    expect(decodeError(nest(MAX_DEPTH + 1)).reason).toBe(`nested deeper than ${MAX_DEPTH} levels`)
    expect(() => encodeValue(nest(MAX_DEPTH + 1), registry)).toThrow(/nested deeper than 64 levels \(is there a cycle\?\)/)
  })

  it('a cycle is refused when it is queued, with a clear error (not a stack overflow)', () => {
    const cyclic: Record<string, unknown> = { id: 1 }
    cyclic.self = cyclic
    const error = thrown(() => encodeValue(cyclic, registry))
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe('The payload is nested deeper than 64 levels (is there a cycle?): flatten it before queueing it.')
  })

  it('unknown tags, unregistered or malformed nested events, bad escapes, and __proto__ keys', () => {
    expect(decodeError({ a: [0, { $t: 'Regex', v: 'x' }] }).message).toBe(
      'payload.a[1]: unknown value tag "Regex" (the serializer writes Date, BigInt, Map, Set, Undefined, Event, Object)',
    )
    expect(decodeError({ a: { $t: 7 } }).path).toBe('payload.a')
    expect(decodeError({ order: { $t: 'Event', name: 'Ghost', v: {} } }).message).toBe(
      'payload.order: Class "Ghost" is not registered: is it exported from app/events or app/jobs?',
    )
    expect(decodeError({ $t: 'Event', name: 'OrderPlaced', v: [] }).message).toBe('[] is not the fields of event "OrderPlaced" (an object)')
    expect(decodeError({ $t: 'Event', v: {} }).message).toBe('a missing value is not an event class name')
    expect(decodeError({ 'odd key': { $t: 'Object', v: null } }).message).toBe('payload["odd key"]: null is not an object (an escaped "$t" object)')
    const proto = decodeError(JSON.parse('{"$t":"Event","name":"OrderPlaced","v":{"__proto__":{"order":1}}}'))
    expect(proto.message).toBe('payload.__proto__: a "__proto__" key is not allowed')
  })

  it('a field the event class has as a getter only (ShouldQueue\'s signal)', () => {
    const error = decodeError({ $t: 'Event', name: 'Shipped', v: { carrier: 'dhl', signal: 1 } })
    expect(error.path).toBe('payload.signal')
    expect(error.reason).toMatch(/signal/)
  })

  it('what is valid still round-trips, events with their prototype', () => {
    const value = new OrderPlaced(new Order(5))
    const back = decode(JSON.parse(JSON.stringify(encodeValue(value, registry)))) as OrderPlaced
    expect(back).toBeInstanceOf(OrderPlaced)
    expect(back.order).toEqual({ id: 5, placedAt: new Date('2026-11-23T10:00:00Z') })
  })
})

describe('the envelope fields are checked', () => {
  const valid = {
    uuid: 'u-1',
    displayName: 'SendReceipt',
    job: 'listener',
    data: { listener: 'SendReceipt', method: null, event: 'OrderPlaced', payload: { $t: 'Event', name: 'OrderPlaced', v: {} } },
    attempts: 0,
    exceptions: 0,
    maxTries: 3,
    maxExceptions: null,
    backoff: [1, 5],
    timeout: 30,
    failOnTimeout: false,
    retryUntil: null,
    createdAt: 1_700_000_000_000,
    context: { eventId: null, correlationId: 'c-1', causationId: null },
  }
  const parseWith = (patch: Record<string, unknown>) => () => parseEnvelope(JSON.stringify({ ...valid, ...patch }))

  it('accepts what Herald writes, and older envelopes without the optional fields', () => {
    expect(parseEnvelope(JSON.stringify(valid))).toMatchObject({ uuid: 'u-1', maxTries: 3, backoff: [1, 5] })
    const minimal = parseEnvelope(JSON.stringify({ uuid: 'u-2', job: 'event', data: { event: 'OrderPlaced', payload: null } }))
    expect(minimal).toMatchObject({ displayName: 'OrderPlaced', attempts: 0, maxTries: null, backoff: null, failOnTimeout: false })
  })

  it.each([
    [{ uuid: '' }, 'envelope.uuid: "" is not a job id (a non-empty string)'],
    [{ job: 'cron' }, 'envelope.job: "cron" is not a job kind ("listener", "event", "broadcast" or "job")'],
    [{ data: [] }, 'envelope.data: [] is not an object (listener, event, payload)'],
    [{ data: { listener: 'SendReceipt', payload: {} } }, 'envelope.data.event: a missing value is not an event name (a string)'],
    [{ data: { event: 'OrderPlaced', payload: {} } }, 'envelope.data.listener: a missing value is not a listener name (a string)'],
    [{ attempts: '2' }, 'envelope.attempts: "2" is not a whole number of 0 or more'],
    [{ exceptions: -1 }, 'envelope.exceptions: -1 is not a whole number of 0 or more'],
    [{ maxTries: 1.5 }, 'envelope.maxTries: 1.5 is not a whole number of 0 or more, or null'],
    [{ backoff: [1, 'x'] }, 'envelope.backoff: [1,"x"] is not a list of seconds (numbers of 0 or more), or null'],
    [{ timeout: -5 }, 'envelope.timeout: -5 is not seconds (a number of 0 or more), or null'],
    [{ failOnTimeout: 'yes' }, 'envelope.failOnTimeout: "yes" is not true or false'],
    [{ retryUntil: 'tomorrow' }, 'envelope.retryUntil: "tomorrow" is not epoch milliseconds, or null'],
    [{ context: { correlationId: 5, eventId: null, causationId: null } }, 'envelope.context.correlationId: 5 is not a string'],
  ])('refuses %j', (patch, message) => {
    const error = thrown(parseWith(patch))
    expect(error).toBeInstanceOf(PayloadDecodeError)
    expect((error as Error).message).toBe(message)
  })

  it('refuses text that is not a JSON object', () => {
    for (const text of ['{not json', '[]', '"job"', 'null', '12']) {
      expect(() => parseEnvelope(text)).toThrow(PayloadDecodeError)
    }
  })
})

/** Every path (list of keys) to a value inside a parsed JSON value. */
function pathsOf(value: unknown, prefix: ReadonlyArray<string | number> = []): Array<ReadonlyArray<string | number>> {
  const paths: Array<ReadonlyArray<string | number>> = [prefix]
  if (Array.isArray(value)) value.forEach((item, i) => paths.push(...pathsOf(item, [...prefix, i])))
  else if (value !== null && typeof value === 'object') {
    for (const [key, field] of Object.entries(value)) paths.push(...pathsOf(field, [...prefix, key]))
  }
  return paths
}

/** A copy of `root` with the value at `path` replaced (or, with `remove`, deleted). */
function corrupt(root: unknown, path: ReadonlyArray<string | number>, replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return replacement
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<string | number, unknown>
  const [head, ...rest] = path as [string | number, ...Array<string | number>]
  if (rest.length === 0 && remove) delete copy[head]
  else copy[head] = corrupt(copy[head], rest, replacement, remove)
  return copy
}

/** Runs parse + decode as the job runner does; any throw that is not a PayloadDecodeError fails the property. */
function decodesOrFailsClearly(text: string): boolean {
  try {
    decodePayload(parseEnvelope(text), registry)
    return true
  } catch (error) {
    if (error instanceof PayloadDecodeError) return true
    throw error
  }
}

/** Values the serializer keeps: JSON plus Date, BigInt, Map, Set, undefined in lists, and events. */
const keptValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    // As JSON carries them (fast-check's JSON values include -0, which JSON itself writes as 0),
    // and without "__proto__" keys, which the serializer refuses (see the decode tests above).
    fc.jsonValue({ maxDepth: 2 }).map((json) => JSON.parse(JSON.stringify(json), (key, value: unknown) => (key === '__proto__' ? undefined : value)) as unknown),
    fc.date({ noInvalidDate: true }),
    fc.bigInt(),
    fc.array(fc.oneof(tie('value'), fc.constant(undefined)), { maxLength: 4 }),
    fc.dictionary(
      fc.string().filter((key) => key !== '__proto__'),
      tie('value'),
      { maxKeys: 4 },
    ),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => new Set(items)),
    fc.integer().map((id) => new OrderPlaced(new Order(id))),
  ),
})).value

describe('property: decoding never throws anything but a PayloadDecodeError', () => {
  it('for random JSON values, bare or as an envelope payload', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          decode(value)
        } catch (error) {
          if (!(error instanceof PayloadDecodeError)) throw error
        }
        return decodesOrFailsClearly(JSON.stringify({ uuid: 'u', job: 'event', data: { event: 'OrderPlaced', payload: value } }))
      }),
      { numRuns: 500 },
    )
  })

  it('for random tagged-looking objects (the tags with random contents)', () => {
    const tag = fc.constantFrom('Date', 'BigInt', 'Map', 'Set', 'Undefined', 'Event', 'Object', 'Nope')
    const tagged = fc.record({ $t: tag, v: fc.jsonValue({ maxDepth: 3 }), name: fc.constantFrom('OrderPlaced', 'Shipped', 'Ghost', 7) }, { requiredKeys: ['$t'] })
    fc.assert(
      fc.property(fc.array(tagged, { maxLength: 4 }), (values) => {
        try {
          decode({ values })
        } catch (error) {
          if (!(error instanceof PayloadDecodeError)) throw error
        }
      }),
      { numRuns: 500 },
    )
  })

  it('for random corruptions of valid envelopes (a value replaced or deleted anywhere)', () => {
    const envelope = fc.record({
      payload: keptValue,
      attempts: fc.nat(5),
      maxTries: fc.option(fc.nat(5)),
      backoff: fc.option(fc.array(fc.nat(60), { maxLength: 3 })),
    })
    fc.assert(
      fc.property(envelope, fc.nat(), fc.jsonValue({ maxDepth: 2 }), fc.boolean(), ({ payload, ...options }, pick, replacement, remove) => {
        const valid = JSON.parse(
          JSON.stringify({
            uuid: 'u-1',
            job: 'listener',
            displayName: 'SendReceipt',
            data: { listener: 'SendReceipt', method: null, event: 'OrderPlaced', payload: encodeValue(payload, registry) },
            ...options,
          }),
        ) as unknown
        expect(decodesOrFailsClearly(JSON.stringify(valid))).toBe(true)
        const paths = pathsOf(valid)
        const broken = corrupt(valid, paths[pick % paths.length]!, replacement, remove)
        return decodesOrFailsClearly(JSON.stringify(broken) ?? 'undefined')
      }),
      { numRuns: 500 },
    )
  })

  it('and what encodes decodes to an equal value', () => {
    fc.assert(
      fc.property(keptValue, (value) => {
        const back = decode(JSON.parse(JSON.stringify(encodeValue(value, registry))))
        expect(back).toEqual(value)
      }),
      { numRuns: 300 },
    )
  })
})

describe('a job whose payload does not decode', () => {
  it('fails at once into failed jobs with the PayloadDecodeError as its reason', async () => {
    const events = new Dispatcher()
    // The worker's dispatcher knows the class by name once it has seen it.
    await events.dispatch(new OrderPlaced())
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
    const runner = manager.runner('database', { tries: 3, backoff: 0, timeout: 0 })
    const payload = JSON.stringify({
      uuid: 'u-9',
      job: 'event',
      data: { event: 'OrderPlaced', payload: { $t: 'Event', name: 'OrderPlaced', v: { order: { placedAt: { $t: 'Date', v: 'not a date' } } } } },
    })
    const outcome = await runner.process({ id: '9', queue: 'default', payload, attempts: 1 })
    expect(outcome.kind).toBe('failed')
    const [row] = await failed.all()
    expect(row!.exception.split('\n')[0]).toBe('PayloadDecodeError: payload.order.placedAt: "not a date" is not a valid Date')
    expect(row!.payload).toBe(payload)
  })
})
