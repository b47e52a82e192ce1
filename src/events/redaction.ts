/** A redaction rule: a key name (any depth), a dotted path from the root, or a regex. */
export type RedactRule = string | RegExp

/** What a masked value becomes unless a mask is configured (`events.redactMask`, EVENTS_REDACT_MASK). */
export const REDACTED = '[REDACTED]'

/** What `createRedactor` takes besides the rules. */
export interface RedactorOptions {
  /** What a masked value becomes. Default {@link REDACTED}. */
  readonly mask?: string
}

/**
 * Masks what the `events.redact` rules name. Called as a function it returns a masked copy of
 * a value (the original is untouched); its methods mask the same values inside text, for
 * error messages that embed them.
 */
export interface Redactor {
  <T>(value: T): T
  /** What masked values become. */
  readonly mask: string
  /**
   * The values `source` holds under masked keys, as the text they would appear as (strings,
   * numbers, bigints; every leaf below a masked key). Values shorter than
   * {@link MIN_SECRET_LENGTH} are left out: masking each `1` of a stack trace hides nothing.
   */
  secretsOf(source: unknown): string[]
  /** `text` with every value `source` holds under a masked key replaced by the mask. */
  redactText(text: string, source: unknown): string
  /**
   * An error that reads like `error` (same class, name, own properties) with `source`'s masked
   * values taken out of its message and stack; `error` itself when there is nothing to take out.
   */
  redactError<E>(error: E, source: unknown): E
}

/** Shorter secrets are not searched for in text (see `Redactor.secretsOf`). */
export const MIN_SECRET_LENGTH = 3

/** Keys whose normalised form is cached, at most: payload keys are few, but some come from outside. */
const KEY_CACHE_LIMIT = 4096

/**
 * A key as rules compare it: lower case, without `_`, `-` or spaces, so `apiKey`, `api_key`,
 * `API-KEY` and `Api Key` are one key.
 */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '')
}

/**
 * Makes a {@link Redactor} for `rules`: a string rule without a dot is a key name matched at any
 * depth (`password`), one with dots a path from the root (`card.number`; array positions are
 * not part of paths, so `items.sku` is every item's sku); both match case- and
 * separator-insensitively (`api_key` masks `apiKey`, `API-KEY`, `api-key`). A regex is tested,
 * as written, against the key and against the dotted path. Class instances keep their class,
 * Dates, Maps and Sets stay what they are.
 *
 * ```ts
 * const redact = createRedactor(['password', 'card.number', 'api_key', /token/i], { mask: '***' })
 * redact({ user: { password: 'x', apiKey: 'k' }, card: { number: '4242' } })   // all three masked
 * redact.redactText('card 4242 declined', { card: { number: '4242' } })        // 'card *** declined'
 * ```
 */
export function createRedactor(rules: readonly RedactRule[], options: RedactorOptions = {}): Redactor {
  const mask = options.mask ?? REDACTED
  const keys = new Set<string>()
  const paths = new Set<string>()
  const patterns: RegExp[] = []
  for (const rule of rules) {
    if (rule instanceof RegExp) patterns.push(rule)
    else if (rule.includes('.')) paths.add(rule.split('.').map(normalizeKey).join('.'))
    else keys.add(normalizeKey(rule))
  }
  if (keys.size === 0 && paths.size === 0 && patterns.length === 0) return identity(mask)

  // Whether a key is masked wherever it is (a key rule, or a regex matching the key alone):
  // decided once per key string, which is what runs per property on every dispatch.
  const byKey = new Map<string, { masked: boolean; normalized: string }>()
  const keyInfo = (key: string): { masked: boolean; normalized: string } => {
    let info = byKey.get(key)
    if (info === undefined) {
      const normalized = normalizeKey(key)
      info = { masked: keys.has(normalized) || patterns.some((pattern) => test(pattern, key)), normalized }
      if (byKey.size >= KEY_CACHE_LIMIT) byKey.clear()
      byKey.set(key, info)
    }
    return info
  }
  // Paths are built only when a rule can look at them.
  const tracksPaths = paths.size > 0 || patterns.length > 0

  /** The child's paths (raw for regexes, normalised for path rules) and whether it is masked. */
  const child = (parent: Position, key: string): Position => {
    const info = keyInfo(key)
    if (!tracksPaths) return info.masked ? MASKED : ROOT
    const raw = parent.raw === '' ? key : `${parent.raw}.${key}`
    const normalized = parent.normalized === '' ? info.normalized : `${parent.normalized}.${info.normalized}`
    const masked = info.masked || paths.has(normalized) || patterns.some((pattern) => test(pattern, raw))
    return { raw, normalized, masked }
  }

  const walk = (value: unknown, at: Position, seen: WeakSet<object>): unknown => {
    if (value === null || typeof value !== 'object' || value instanceof Date) return value
    if (seen.has(value)) return value
    seen.add(value)
    try {
      if (Array.isArray(value)) return value.map((item) => walk(item, at, seen))
      if (value instanceof Set) return new Set([...value].map((item) => walk(item, at, seen)))
      if (value instanceof Map) {
        const copy = new Map()
        for (const [key, item] of value) {
          const position = child(at, String(key))
          copy.set(key, position.masked ? mask : walk(item, position, seen))
        }
        return copy
      }
      const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>
      for (const [key, item] of Object.entries(value)) {
        const position = child(at, key)
        copy[key] = position.masked ? mask : walk(item, position, seen)
      }
      return copy
    } finally {
      seen.delete(value)
    }
  }

  const collect = (value: unknown, at: Position, found: Set<string>, seen: WeakSet<object>): void => {
    if (value === null || typeof value !== 'object' || value instanceof Date || seen.has(value)) return
    seen.add(value)
    const visit = (key: string, item: unknown) => {
      const position = child(at, key)
      if (position.masked) leaves(item, found, new WeakSet())
      else collect(item, position, found, seen)
    }
    if (Array.isArray(value) || value instanceof Set) for (const item of value) collect(item, at, found, seen)
    else if (value instanceof Map) for (const [key, item] of value) visit(String(key), item)
    else for (const [key, item] of Object.entries(value)) visit(key, item)
  }

  const secretsOf = (source: unknown): string[] => {
    const found = new Set<string>()
    collect(source, ROOT, found, new WeakSet())
    // Longest first, so a secret that contains another is masked whole.
    return [...found].sort((a, b) => b.length - a.length)
  }

  const redactText = (text: string, source: unknown): string => replaceAll(text, secretsOf(source), mask)

  const redactor = ((value: unknown) => walk(value, ROOT, new WeakSet())) as Redactor
  return Object.assign(redactor, {
    mask,
    secretsOf,
    redactText,
    redactError: <E>(error: E, source: unknown): E => maskError(error, secretsOf(source), mask),
  })
}

interface Position {
  readonly raw: string
  readonly normalized: string
  readonly masked: boolean
}

const ROOT: Position = { raw: '', normalized: '', masked: false }
/** Where paths are not tracked, every position is one of these two. */
const MASKED: Position = { raw: '', normalized: '', masked: true }

function identity(mask: string): Redactor {
  const redactor = (<T>(value: T): T => value) as Redactor
  return Object.assign(redactor, {
    mask,
    secretsOf: () => [],
    redactText: (text: string) => text,
    redactError: <E>(error: E): E => error,
  })
}

/** Every string, number and bigint below a masked key, as text. */
function leaves(value: unknown, found: Set<string>, seen: WeakSet<object>): void {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
    const text = String(value)
    if (text.length >= MIN_SECRET_LENGTH) {
      found.add(text)
      // As it appears inside JSON (a message that embeds JSON.stringify(payload)).
      const quoted = JSON.stringify(text).slice(1, -1)
      if (quoted !== text) found.add(quoted)
    }
    return
  }
  if (value === null || typeof value !== 'object' || seen.has(value)) return
  seen.add(value)
  if (value instanceof Date) return
  const items = value instanceof Map ? value.values() : Array.isArray(value) || value instanceof Set ? value.values() : Object.values(value)
  for (const item of items) leaves(item, found, seen)
}

function replaceAll(text: string, secrets: readonly string[], mask: string): string {
  let result = text
  for (const secret of secrets) if (result.includes(secret)) result = result.split(secret).join(mask)
  return result
}

function maskError<E>(error: E, secrets: readonly string[], mask: string): E {
  if (secrets.length === 0) return error
  if (!(error instanceof Error)) {
    if (typeof error !== 'string') return error
    const masked = replaceAll(error, secrets, mask)
    return (masked === error ? error : masked) as E
  }
  const message = replaceAll(error.message, secrets, mask)
  const stack = error.stack === undefined ? undefined : replaceAll(error.stack, secrets, mask)
  if (message === error.message && stack === error.stack) return error
  // A copy, not the original changed: the application may still hold it (a failed() hook did).
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error
  Object.defineProperties(copy, Object.getOwnPropertyDescriptors(error))
  Object.defineProperty(copy, 'message', { value: message, writable: true, configurable: true, enumerable: false })
  Object.defineProperty(copy, 'stack', { value: stack, writable: true, configurable: true, enumerable: false })
  return copy as E
}

function test(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0
  return pattern.test(text)
}
