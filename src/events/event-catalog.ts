import type { StringEventDeclaration } from './event-declarations.ts'

/**
 * What an event class says about itself, for `event:list --json` and `event:show`: its
 * `static description`, `static category`, `static tags`, `static schema` (as JSON Schema)
 * and an example payload. A string event says the same in `defineEvents()`.
 *
 * ```ts
 * export class OrderPlaced extends Dispatchable {
 *   static description = 'A customer placed an order'
 *   static category = 'orders'                // event:list --category orders
 *   static tags = ['orders']
 *   static schema = z.object({ orderId: z.number().int().positive() })
 *   static example = { orderId: 42 }          // optional: else derived from the schema
 * }
 * ```
 */
export interface EventDescription {
  readonly description: string | null
  /** One word grouping events: `event:list` shows it and `--category` filters by it. */
  readonly category: string | null
  readonly tags: readonly string[]
  /** The payload schema as JSON Schema (draft 2020-12), or null when the class declares none. */
  readonly schema: JsonSchema | null
  /** The class's `static example`, else a payload derived from the schema, else null. */
  readonly example: unknown
}

/** A JSON Schema document, as zod's `toJSONSchema()` writes it. */
export type JsonSchema = { readonly [key: string]: unknown }

/** What the catalog reads off an event class or a string event's declaration. */
interface DescribedClass {
  description?: unknown
  category?: unknown
  tags?: unknown
  schema?: unknown
  example?: unknown
}

const undescribed: EventDescription = Object.freeze({ description: null, category: null, tags: Object.freeze([]), schema: null, example: null })

/**
 * The catalog entry of an event class, or of a string event's `defineEvents()` declaration
 * (the same fields); undefined (a string event nobody declared) says nothing.
 */
export function describeEvent(described: Function | StringEventDeclaration | undefined): EventDescription {
  if (described === undefined) return undescribed
  const { description, category, tags, schema, example } = described as DescribedClass
  const jsonSchema = toJsonSchema(schema)
  return {
    description: typeof description === 'string' ? description : null,
    category: typeof category === 'string' && category.trim() !== '' ? category.trim() : null,
    tags: Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [],
    schema: jsonSchema,
    example: example !== undefined ? example : jsonSchema === null ? null : exampleOf(jsonSchema, jsonSchema),
  }
}

/**
 * A zod schema's JSON Schema, of what a dispatch passes in (`io: 'input'`: defaults are
 * optional). Types JSON Schema cannot express (Date, BigInt, Map) become `{}` instead of an error.
 */
function toJsonSchema(schema: unknown): JsonSchema | null {
  if (schema === null || typeof schema !== 'object') return null
  const convert = (schema as { toJSONSchema?: unknown }).toJSONSchema
  if (typeof convert !== 'function') return null
  return convert.call(schema, { unrepresentable: 'any', io: 'input' }) as JsonSchema
}

/**
 * A value the schema accepts, in this order: its `examples[0]`, `default` or `const`, the first
 * of its `enum`, the first branch of `anyOf`/`oneOf` that is not null, else a value of its type
 * that meets its bounds (`minimum`, `minLength`, `minItems`, well-known string formats).
 * What JSON Schema cannot describe (a refinement, a Date) is not guessed: it comes out null.
 */
export function exampleOf(schema: JsonSchema, root: JsonSchema = schema): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0]
  if ('default' in schema) return schema.default
  if ('const' in schema) return schema.const
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(schema.$ref, root)
    return target === undefined ? null : exampleOf(target, root)
  }
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined
  if (Array.isArray(branches) && branches.length > 0) {
    return exampleOf(branches.find((branch) => branch.type !== 'null') ?? branches[0]!, root)
  }
  if (Array.isArray(schema.allOf)) {
    return (schema.allOf as JsonSchema[]).reduce<unknown>((merged, part) => merge(merged, exampleOf(part, root)), undefined) ?? null
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? schema.type[0]) : schema.type
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>
      return Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, exampleOf(property, root)]))
    }
    case 'array': {
      const items = schema.items
      const count = Math.max(1, Number(schema.minItems ?? 1))
      if (Array.isArray(schema.prefixItems)) return (schema.prefixItems as JsonSchema[]).map((item) => exampleOf(item, root))
      return items !== null && typeof items === 'object' ? Array.from({ length: count }, () => exampleOf(items as JsonSchema, root)) : []
    }
    case 'string':
      return exampleString(schema)
    case 'integer':
    case 'number':
      return exampleNumber(schema, type === 'integer')
    case 'boolean':
      return true
    default:
      return null
  }
}

const formats: Record<string, string> = {
  email: 'user@example.com',
  uri: 'https://example.com',
  url: 'https://example.com',
  uuid: '01890a5d-ac96-774b-bcce-b302099a8057',
  'date-time': '2026-01-01T12:00:00.000Z',
  date: '2026-01-01',
  time: '12:00:00',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  duration: 'PT1H',
}

function exampleString(schema: JsonSchema): string {
  const known = typeof schema.format === 'string' ? formats[schema.format] : undefined
  if (known !== undefined) return known
  const min = Number(schema.minLength ?? 0)
  const max = schema.maxLength === undefined ? Infinity : Number(schema.maxLength)
  const text = 'string'.padEnd(min, 'x')
  return text.slice(0, max)
}

function exampleNumber(schema: JsonSchema, integer: boolean): number {
  const step = integer ? 1 : 0.5
  let value = integer ? 1 : 1.5
  if (typeof schema.minimum === 'number') value = Math.max(schema.minimum, schema.minimum > 0 ? schema.minimum : value)
  if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) value = schema.exclusiveMinimum + step
  if (typeof schema.maximum === 'number' && value > schema.maximum) value = schema.maximum
  if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) value = schema.exclusiveMaximum - step
  if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0) value = Math.ceil(value / schema.multipleOf) * schema.multipleOf
  return integer ? Math.ceil(value) : value
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema | undefined {
  if (ref === '#') return root
  if (!ref.startsWith('#/')) return undefined
  let node: unknown = root
  for (const part of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return node !== null && typeof node === 'object' ? (node as JsonSchema) : undefined
}

function merge(into: unknown, value: unknown): unknown {
  if (into === undefined) return value
  if (into !== null && typeof into === 'object' && value !== null && typeof value === 'object' && !Array.isArray(into)) return { ...into, ...value }
  return value
}

/**
 * The names close to `name`, closest first: for "no event X: did you mean Y?". Close is an
 * edit distance of at most a third of the name (at least 2), or one containing the other.
 */
export function closeMatches(name: string, names: Iterable<string>, limit = 3): string[] {
  const wanted = name.toLowerCase()
  const scored: Array<[string, number]> = []
  for (const candidate of names) {
    const lower = candidate.toLowerCase()
    const distance = editDistance(wanted, lower)
    const contains = lower.includes(wanted) || wanted.includes(lower)
    if (distance <= Math.max(2, Math.floor(wanted.length / 3)) || contains) scored.push([candidate, contains ? Math.min(distance, 1) : distance])
  }
  return scored
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([candidate]) => candidate)
}

/** Levenshtein distance, two rows. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
