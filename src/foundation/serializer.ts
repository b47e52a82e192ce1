import { PayloadDecodeError } from './payload-decode-error.ts'
import { errorMessage } from './error-message.ts'

/**
 * The job payload serializer: JSON that keeps what JSON drops. Tagged values are objects with
 * a `$t` key: Date, BigInt, Map, Set, `undefined` inside arrays, and instances of registered
 * event classes, rebuilt with their prototype (the constructor is not run, as with any
 * deserialisation). A plain object that happens to have a `$t` key is wrapped so it cannot be
 * mistaken for a tag.
 *
 * Decoding trusts nothing: a stored payload may have been corrupted, or written by hand. What
 * it rebuilds is checked (a Date must be a valid date, a BigInt decimal integer text, a Map a
 * list of pairs, a nested event a registered class), nesting stops at {@link MAX_DEPTH} levels
 * (both ways, so anything encoded decodes), and any failure is one PayloadDecodeError naming the
 * field: `payload.order.placedAt: "not a date" is not a valid Date`.
 */

/** Looks event classes up by event name, to rebuild nested events. */
export interface EventClassRegistry {
  classFor(name: string): Function | undefined
  nameOf(instance: object): string | undefined
}

export { PayloadDecodeError }

/** Objects and arrays nested deeper than this are refused: by encode at dispatch, by decode in the worker. */
export const MAX_DEPTH = 64

type Tagged =
  | { $t: 'Date'; v: string }
  | { $t: 'BigInt'; v: string }
  | { $t: 'Map'; v: Array<[unknown, unknown]> }
  | { $t: 'Set'; v: unknown[] }
  | { $t: 'Undefined' }
  | { $t: 'Event'; name: string; v: Record<string, unknown> }
  | { $t: 'Object'; v: Record<string, unknown> }

/** Encodes a value for JSON.stringify; throws a TypeError for a value nested deeper than MAX_DEPTH (a cycle, usually). */
export function encodeValue(value: unknown, registry: EventClassRegistry): unknown {
  return encode(value, registry, 1)
}

function encode(value: unknown, registry: EventClassRegistry, depth: number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  // Every tag is an object in the JSON, so it counts as a level, as decode counts it.
  if (depth > MAX_DEPTH) {
    throw new TypeError(`The payload is nested deeper than ${MAX_DEPTH} levels (is there a cycle?): flatten it before queueing it.`)
  }
  if (typeof value === 'bigint') return { $t: 'BigInt', v: value.toString() } satisfies Tagged
  if (value === undefined) return { $t: 'Undefined' } satisfies Tagged
  if (typeof value !== 'object') return null
  if (value instanceof Date) return { $t: 'Date', v: value.toISOString() } satisfies Tagged
  const next = depth + 1
  if (Array.isArray(value)) return value.map((item) => encode(item, registry, next))
  if (value instanceof Map) {
    return { $t: 'Map', v: [...value].map(([k, v]) => [encode(k, registry, next), encode(v, registry, next)]) }
  }
  if (value instanceof Set) return { $t: 'Set', v: [...value].map((item) => encode(item, registry, next)) }
  const fields: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) {
    if (field !== undefined && typeof field !== 'function') fields[key] = encode(field, registry, next)
  }
  const eventName = Object.getPrototypeOf(value) === Object.prototype ? undefined : registry.nameOf(value)
  if (eventName !== undefined) return { $t: 'Event', name: eventName, v: fields }
  return '$t' in fields ? { $t: 'Object', v: fields } : fields
}

/**
 * Rebuilds a value parsed from the serializer's JSON; throws a PayloadDecodeError whose path
 * starts at `root` when anything in it is not what the serializer writes.
 */
export function decodeValue(value: unknown, registry: EventClassRegistry, root = 'payload'): unknown {
  if (value === null || typeof value !== 'object') return value
  try {
    return decodeObject(value, registry, 1)
  } catch (error) {
    const failure = error instanceof Failure ? error : new Failure(errorMessage(error))
    // A failure of the value as a whole (an unregistered event class) needs no path: the message stays as it was.
    throw new PayloadDecodeError(failure.reason, failure.path.length === 0 ? null : root + shortPath(failure.path.reverse()))
  }
}

/**
 * A decode failure on its way out: each level it passes adds its segment of the path. Not an
 * Error (no stack is captured) and built only when something is wrong, so the hot path pays for
 * no path at all, only for one try block per object.
 */
class Failure {
  readonly path: string[] = []
  constructor(readonly reason: string) {}
}

function failureAt(error: unknown, segment: string): Failure {
  const failure = error instanceof Failure ? error : new Failure(errorMessage(error))
  failure.path.push(segment)
  return failure
}

/** The path's segments, joined; a very deep one keeps its two ends (`[0][0][0]...[0][0]`). */
function shortPath(segments: readonly string[]): string {
  if (segments.length <= 12) return segments.join('')
  return `${segments.slice(0, 6).join('')}...(${segments.length - 12} more)...${segments.slice(-6).join('')}`
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
const DECIMAL_INTEGER = /^-?\d+$/

function property(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/** A bad value as the message shows it: JSON, cut short. */
function show(value: unknown): string {
  if (value === undefined) return 'a missing value'
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function decodeObject(value: object, registry: EventClassRegistry, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new Failure(`nested deeper than ${MAX_DEPTH} levels`)
  if (Array.isArray(value)) return decodeItems(value, registry, depth + 1)
  const record = value as Record<string, unknown>
  if (!('$t' in record)) return decodeFields(record, registry, depth, {})
  return decodeTagged(record, registry, depth)
}

function decodeTagged(record: Record<string, unknown>, registry: EventClassRegistry, depth: number): unknown {
  const tagged = record as Partial<Record<'$t' | 'v' | 'name', unknown>>
  const v = tagged.v
  switch (tagged.$t) {
    case 'Date': {
      const date = typeof v === 'string' ? new Date(v) : null
      if (date === null || Number.isNaN(date.getTime())) throw new Failure(`${show(v)} is not a valid Date`)
      return date
    }
    case 'BigInt':
      if (typeof v !== 'string' || !DECIMAL_INTEGER.test(v)) throw new Failure(`${show(v)} is not a BigInt (decimal integer text)`)
      return BigInt(v)
    case 'Undefined':
      return undefined
    case 'Map':
      if (!Array.isArray(v)) throw new Failure(`${show(v)} is not a Map (a list of [key, value] pairs)`)
      return decodeMap(v, registry, depth + 1)
    case 'Set':
      if (!Array.isArray(v)) throw new Failure(`${show(v)} is not a Set (a list of items)`)
      return new Set(decodeItems(v, registry, depth + 1))
    case 'Object':
      if (!isRecord(v)) throw new Failure(`${show(v)} is not an object (an escaped "$t" object)`)
      return decodeFields(v, registry, depth, {})
    case 'Event': {
      const name = tagged.name
      if (typeof name !== 'string') throw new Failure(`${show(name)} is not an event class name`)
      if (!isRecord(v)) throw new Failure(`${show(v)} is not the fields of event "${name}" (an object)`)
      const ctor = registry.classFor(name)
      if (ctor === undefined) throw new Failure(`Class "${name}" is not registered: is it exported from app/events or app/jobs?`)
      return decodeFields(v, registry, depth, Object.create(ctor.prototype as object) as Record<string, unknown>)
    }
    default:
      throw new Failure(`unknown value tag ${show(tagged.$t)} (the serializer writes Date, BigInt, Map, Set, Undefined, Event, Object)`)
  }
}

/**
 * Decodes each field of a parsed JSON object (at `depth`) into `out`. for...in straight into the
 * result: no entry arrays per field (JSON.parse makes only own, enumerable keys). A `__proto__`
 * key would set the result's prototype (a rebuilt event would stop being one), so it is refused.
 */
function decodeFields(
  fields: Record<string, unknown>,
  registry: EventClassRegistry,
  depth: number,
  out: Record<string, unknown>,
): Record<string, unknown> {
  let key: string | undefined
  try {
    for (key in fields) {
      const field = fields[key]
      if (key === '__proto__') throw new Failure('a "__proto__" key is not allowed')
      out[key] = field === null || typeof field !== 'object' ? field : decodeObject(field, registry, depth + 1)
    }
  } catch (error) {
    // Also what assigning throws: a field the event class declares as a getter only.
    throw failureAt(error, key === undefined ? '' : property(key))
  }
  return out
}

/** Decodes the items of an array (or a Set's list), each at `depth`. */
function decodeItems(items: readonly unknown[], registry: EventClassRegistry, depth: number): unknown[] {
  const out: unknown[] = []
  let i = 0
  try {
    for (; i < items.length; i++) {
      const item = items[i]
      out.push(item === null || typeof item !== 'object' ? item : decodeObject(item, registry, depth))
    }
  } catch (error) {
    throw failureAt(error, `[${i}]`)
  }
  return out
}

function decodeMap(entries: readonly unknown[], registry: EventClassRegistry, depth: number): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>()
  let i = 0
  let part = ''
  try {
    for (; i < entries.length; i++) {
      const entry = entries[i]
      part = ''
      if (!Array.isArray(entry) || entry.length !== 2) throw new Failure(`${show(entry)} is not a [key, value] pair`)
      const [k, v] = entry as [unknown, unknown]
      part = ' key'
      const key = k === null || typeof k !== 'object' ? k : decodeObject(k, registry, depth)
      part = ' value'
      map.set(key, v === null || typeof v !== 'object' ? v : decodeObject(v, registry, depth))
    }
  } catch (error) {
    throw failureAt(error, `[entry ${i}${part}]`)
  }
  return map
}
