/**
 * The job payload serializer: JSON that keeps what JSON drops. Tagged values are objects with
 * a `$t` key: Date, BigInt, Map, Set, `undefined` inside arrays, and instances of registered
 * event classes, rebuilt with their prototype (the constructor is not run, as with any
 * deserialisation). A plain object that happens to have a `$t` key is wrapped so it cannot be
 * mistaken for a tag.
 */

/** Looks event classes up by event name, to rebuild nested events. */
export interface EventClassRegistry {
  classFor(name: string): Function | undefined
  nameOf(instance: object): string | undefined
}

/** A payload that cannot be decoded: the job fails with this reason and is not retried. */
export class PayloadDecodeError extends Error {
  override readonly name = 'PayloadDecodeError'
}

type Tagged =
  | { $t: 'Date'; v: string }
  | { $t: 'BigInt'; v: string }
  | { $t: 'Map'; v: Array<[unknown, unknown]> }
  | { $t: 'Set'; v: unknown[] }
  | { $t: 'Undefined' }
  | { $t: 'Event'; name: string; v: Record<string, unknown> }
  | { $t: 'Object'; v: Record<string, unknown> }

export function encodeValue(value: unknown, registry: EventClassRegistry): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'bigint') return { $t: 'BigInt', v: value.toString() } satisfies Tagged
  if (value === undefined) return { $t: 'Undefined' } satisfies Tagged
  if (typeof value !== 'object') return null
  if (value instanceof Date) return { $t: 'Date', v: value.toISOString() } satisfies Tagged
  if (Array.isArray(value)) return value.map((item) => encodeValue(item, registry))
  if (value instanceof Map) {
    return { $t: 'Map', v: [...value].map(([k, v]) => [encodeValue(k, registry), encodeValue(v, registry)]) }
  }
  if (value instanceof Set) return { $t: 'Set', v: [...value].map((item) => encodeValue(item, registry)) }
  const fields: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) {
    if (field !== undefined && typeof field !== 'function') fields[key] = encodeValue(field, registry)
  }
  const eventName = Object.getPrototypeOf(value) === Object.prototype ? undefined : registry.nameOf(value)
  if (eventName !== undefined) return { $t: 'Event', name: eventName, v: fields }
  return '$t' in fields ? { $t: 'Object', v: fields } : fields
}

export function decodeValue(value: unknown, registry: EventClassRegistry): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, registry))
  const record = value as Record<string, unknown>
  if (!('$t' in record)) return decodeFields(record, registry)
  const tagged = record as Tagged
  switch (tagged.$t) {
    case 'Date':
      return new Date(tagged.v)
    case 'BigInt':
      return BigInt(tagged.v)
    case 'Undefined':
      return undefined
    case 'Map':
      return new Map(tagged.v.map(([k, v]) => [decodeValue(k, registry), decodeValue(v, registry)]))
    case 'Set':
      return new Set(tagged.v.map((item) => decodeValue(item, registry)))
    case 'Object':
      return decodeFields(tagged.v, registry)
    case 'Event': {
      const ctor = registry.classFor(tagged.name)
      if (ctor === undefined) {
        throw new PayloadDecodeError(`Event class "${tagged.name}" is not registered: is it exported from app/events?`)
      }
      return decodeFields(tagged.v, registry, Object.create(ctor.prototype as object) as Record<string, unknown>)
    }
    default:
      throw new PayloadDecodeError(`Unknown value tag "${String((record as { $t: unknown }).$t)}" in the payload.`)
  }
}

/** Decodes each field of a parsed JSON object into `out`. for...in: no entry arrays per field (JSON.parse makes only own, enumerable keys). */
function decodeFields(fields: Record<string, unknown>, registry: EventClassRegistry, out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const key in fields) out[key] = decodeValue(fields[key], registry)
  return out
}
