import { ValidationError, type FieldErrors } from './http-error.ts'

/**
 * Laravel's rule strings, `|`-separated: `required`, `string`, `email`, `integer`, `numeric`,
 * `boolean`, `min:n` / `max:n` (a number's value, a string's length), `in:a,b,c`.
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

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const TRUE = new Set([true, 1, '1', 'true', 'on', 'yes'])
const FALSE = new Set([false, 0, '0', 'false', 'off', 'no'])

function label(field: string): string {
  return field.replace(/[_-]/g, ' ')
}

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
    const [kind, argument = ''] = rule.split(':', 2) as [string, string | undefined]
    switch (kind) {
      case 'required':
        break
      case 'string':
        if (typeof value !== 'string') errors.push(`The ${name} field must be a string.`)
        break
      case 'email':
        if (typeof value !== 'string' || !EMAIL.test(value)) errors.push(`The ${name} field must be a valid email address.`)
        break
      case 'integer':
      case 'numeric': {
        const number = typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : Number.NaN
        if (!Number.isFinite(number) || (kind === 'integer' && !Number.isInteger(number))) {
          errors.push(`The ${name} field must be ${kind === 'integer' ? 'an integer' : 'a number'}.`)
          return { value, errors }
        }
        value = number
        break
      }
      case 'boolean':
        if (TRUE.has(value as never)) value = true
        else if (FALSE.has(value as never)) value = false
        else errors.push(`The ${name} field must be true or false.`)
        break
      case 'min':
      case 'max': {
        const limit = Number(argument)
        const size = numeric ? Number(value) : String(value).length
        const unit = numeric ? '' : ' characters'
        if (kind === 'min' && size < limit) errors.push(`The ${name} field must be at least ${limit}${unit}.`)
        if (kind === 'max' && size > limit) errors.push(`The ${name} field must not be greater than ${limit}${unit}.`)
        break
      }
      case 'in':
        if (!argument.split(',').includes(String(value))) errors.push(`The selected ${name} is invalid.`)
        break
      default:
        throw new Error(`Unknown validation rule "${rule}" for ${field}.`)
    }
  }
  return { value, errors }
}

/**
 * Validates request input against Laravel-style rules: the typed, converted values (numbers
 * for `integer`, booleans for `boolean`, trimmed strings), or a {@link ValidationError} (422
 * with every field's messages). Fields without rules are left out.
 *
 * ```ts
 * const order = validate(request.body, { email: 'required|email', quantity: 'required|integer|min:1|max:10' })
 * order.quantity // number
 * ```
 */
export function validate<R extends Rules>(input: unknown, rules: R): Validated<R> {
  const source = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>
  const values: Record<string, unknown> = {}
  const failures: FieldErrors = {}
  for (const [field, spec] of Object.entries(rules)) {
    const { value, errors } = check(field, source[field], spec.split('|').filter(Boolean))
    if (errors.length > 0) failures[field] = errors
    else if (value !== undefined) values[field] = value
  }
  if (Object.keys(failures).length > 0) throw new ValidationError(failures)
  return values as Validated<R>
}
