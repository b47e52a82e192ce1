import { ValidationError, type FieldErrors } from './http-error.ts'

/**
 * Laravel's rule strings, `|`-separated: `required`, `string`, `email`, `integer`, `numeric`,
 * `boolean`, `min:n` / `max:n` (a number's value, a string's length), `in:a,b,c`.
 *
 * Every rule describes one value (a string, a number or a boolean): a list or an object where
 * a field's value belongs fails that field, whatever its rules.
 */
export type Rules = Readonly<Record<string, string>>

type ValueOf<R extends string> = R extends `${string}integer${string}` | `${string}numeric${string}`
  ? number
  : R extends `${string}boolean${string}`
    ? boolean
    : string

/** The validated data: each field typed by its rules, `undefined` unless `required` (an absent `boolean` is false). */
export type Validated<R extends Rules> = {
  -readonly [K in keyof R]: R[K] extends `${string}required${string}` | `${string}boolean${string}` ? ValueOf<R[K]> : ValueOf<R[K]> | undefined
}

type Scalar = string | number | boolean

/**
 * Longer than any deliverable address (RFC 5321), and a bound on the regex's work: its
 * backtracking is quadratic in the length of a long, dotted string without a valid ending.
 */
const EMAIL_MAX_LENGTH = 254
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
/** Decimal integer text, optional sign: not `1e1`, `0x0A`, `1_000`, ` 1` or `Infinity`, which `Number()` takes. */
const INTEGER_TEXT = /^[+-]?\d+$/
/** Decimal number text, optional sign, fraction and exponent (PHP's is_numeric, without hex or spaces). */
const NUMERIC_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const TRUE = new Set<unknown>([true, 1, '1', 'true', 'on', 'yes'])
const FALSE = new Set<unknown>([false, 0, '0', 'false', 'off', 'no'])
/** Field names that would write to an object's prototype rather than a field of its own. */
const RESERVED_FIELDS = new Set(['__proto__', 'constructor', 'prototype'])

function label(field: string): string {
  return field.replace(/[_-]/g, ' ')
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}

/** A safe integer from a number or decimal integer text; null for anything else. */
function toInteger(value: unknown): number | null {
  const number = typeof value === 'number' ? value : typeof value === 'string' && INTEGER_TEXT.test(value) ? Number(value) : Number.NaN
  // `+ 0` turns -0 into 0.
  return Number.isSafeInteger(number) ? number + 0 : null
}

/** A finite number from a number or decimal number text; null for anything else. */
function toNumber(value: unknown): number | null {
  const number = typeof value === 'number' ? value : typeof value === 'string' && NUMERIC_TEXT.test(value) ? Number(value) : Number.NaN
  return Number.isFinite(number) ? number + 0 : null
}

/** The number a `min:`/`max:` argument names; a malformed one is the rules' author's mistake. */
function limitOf(rule: string, argument: string, field: string): number {
  const limit = toNumber(argument)
  if (limit === null) throw new Error(`Validation rule "${rule}" for ${field} needs a number, as in "${rule.split(':')[0]}:10".`)
  return limit
}

/**
 * One field against its rules. Each rule inspects the value's type before using it, so no
 * input (an object whose `toString` is null, a list, a huge string) can make a rule throw.
 */
function check(field: string, raw: unknown, rules: string[]): { value: unknown; errors: string[] } {
  const name = label(field)
  const absent = raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')
  if (absent) {
    // An unchecked checkbox sends nothing: a boolean that is absent is false.
    if (rules.includes('boolean') && !rules.includes('required')) return { value: false, errors: [] }
    return { value: undefined, errors: rules.includes('required') ? [`The ${name} field is required.`] : [] }
  }
  let value: unknown = typeof raw === 'string' ? raw.trim() : raw
  const errors: string[] = []
  const numeric = rules.includes('integer') || rules.includes('numeric')
  for (const rule of rules) {
    const colon = rule.indexOf(':')
    const kind = colon === -1 ? rule : rule.slice(0, colon)
    const argument = colon === -1 ? '' : rule.slice(colon + 1)
    switch (kind) {
      case 'required':
        break
      case 'string':
        if (typeof value !== 'string') errors.push(`The ${name} field must be a string.`)
        break
      case 'email':
        if (typeof value !== 'string' || value.length > EMAIL_MAX_LENGTH || !EMAIL.test(value)) errors.push(`The ${name} field must be a valid email address.`)
        break
      case 'integer':
      case 'numeric': {
        const number = kind === 'integer' ? toInteger(value) : toNumber(value)
        if (number === null) {
          errors.push(`The ${name} field must be ${kind === 'integer' ? 'an integer' : 'a number'}.`)
          return { value, errors }
        }
        value = number
        break
      }
      case 'boolean':
        if (TRUE.has(value)) value = true
        else if (FALSE.has(value)) value = false
        else errors.push(`The ${name} field must be true or false.`)
        break
      case 'min':
      case 'max': {
        const limit = limitOf(rule, argument, field)
        // What is not of the measured kind is left to the type rules to report.
        const size = numeric ? toNumber(value) : typeof value === 'string' ? value.length : null
        if (size === null) break
        const unit = numeric ? '' : ' characters'
        if (kind === 'min' && size < limit) errors.push(`The ${name} field must be at least ${limit}${unit}.`)
        if (kind === 'max' && size > limit) errors.push(`The ${name} field must not be greater than ${limit}${unit}.`)
        break
      }
      case 'in':
        // One value compared with each choice: a list holding a choice is not that choice.
        if (!isScalar(value) || !argument.split(',').includes(String(value))) errors.push(`The selected ${name} is invalid.`)
        break
      default:
        throw new Error(`Unknown validation rule "${rule}" for ${field}.`)
    }
  }
  if (errors.length === 0 && !isScalar(value)) errors.push(`The ${name} field must be a single value, not a list or an object.`)
  return { value, errors }
}

/**
 * Validates request input against Laravel-style rules: the typed, converted values (numbers
 * for `integer`, booleans for `boolean`, trimmed strings), or a {@link ValidationError} (422
 * with every field's messages). Fields without rules are left out, so nothing else of the
 * input (`__proto__`, `constructor`) reaches the result. Whatever the input, the only error
 * thrown is a ValidationError; an unknown rule or a malformed `min:`/`max:` is the rules'
 * mistake and throws an Error naming it.
 *
 * ```ts
 * const order = validate(request.body, { email: 'required|email', quantity: 'required|integer|min:1|max:10' })
 * order.quantity // number
 * ```
 */
export function validate<R extends Rules>(input: unknown, rules: R): Validated<R> {
  // Only the input's own fields count: `{}` has no `constructor` field, whatever its prototype says.
  const source = input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {}
  const values: Record<string, unknown> = {}
  const failures: FieldErrors = {}
  for (const [field, spec] of Object.entries(rules)) {
    if (RESERVED_FIELDS.has(field)) throw new Error(`Validation rules cannot name the field "${field}": it is a JavaScript object's own machinery; rename the field.`)
    const raw = Object.hasOwn(source, field) ? (source as Record<string, unknown>)[field] : undefined
    const { value, errors } = check(field, raw, spec.split('|').filter(Boolean))
    if (errors.length > 0) failures[field] = errors
    else if (value !== undefined) values[field] = value
  }
  if (Object.keys(failures).length > 0) throw new ValidationError(failures)
  return values as Validated<R>
}
