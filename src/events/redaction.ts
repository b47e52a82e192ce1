/** A redaction rule: a key name (any depth), a dotted path from the root, or a regex. */
export type RedactRule = string | RegExp

/** What a masked value becomes. */
export const REDACTED = '[REDACTED]'

export type Redactor = <T>(value: T) => T

const identity: Redactor = (value) => value

/**
 * Masks the values `rules` name, in a copy (the original is untouched): a string rule without
 * a dot is a key name matched at any depth (`password`), one with dots a path from the root
 * (`card.number`; array positions are not part of paths, so `items.sku` is every item's sku),
 * both case-insensitive; a regex is tested against the key and against the path. Class
 * instances keep their class, Dates, Maps and Sets stay what they are.
 *
 * ```ts
 * const redact = createRedactor(['password', 'card.number', /token/i])
 * redact({ user: { password: 'x' }, card: { number: '4242' } })   // both masked
 * ```
 */
export function createRedactor(rules: readonly RedactRule[]): Redactor {
  if (rules.length === 0) return identity
  const keys = new Set<string>()
  const paths = new Set<string>()
  const patterns: RegExp[] = []
  for (const rule of rules) {
    if (rule instanceof RegExp) patterns.push(rule)
    else if (rule.includes('.')) paths.add(rule.toLowerCase())
    else keys.add(rule.toLowerCase())
  }
  const masked = (key: string, path: string): boolean =>
    keys.has(key.toLowerCase()) || paths.has(path.toLowerCase()) || patterns.some((pattern) => test(pattern, key) || test(pattern, path))

  const walk = (value: unknown, path: string, seen: WeakSet<object>): unknown => {
    if (value === null || typeof value !== 'object' || value instanceof Date) return value
    if (seen.has(value)) return value
    seen.add(value)
    try {
      if (Array.isArray(value)) return value.map((item) => walk(item, path, seen))
      if (value instanceof Set) return new Set([...value].map((item) => walk(item, path, seen)))
      if (value instanceof Map) {
        const copy = new Map()
        for (const [key, item] of value) {
          const child = join(path, String(key))
          copy.set(key, masked(String(key), child) ? REDACTED : walk(item, child, seen))
        }
        return copy
      }
      const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>
      for (const [key, item] of Object.entries(value)) {
        const child = join(path, key)
        copy[key] = masked(key, child) ? REDACTED : walk(item, child, seen)
      }
      return copy
    } finally {
      seen.delete(value)
    }
  }
  return ((value: unknown) => walk(value, '', new WeakSet())) as Redactor
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function test(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0
  return pattern.test(text)
}
