import { UserError } from '../foundation/errors.ts'
import { quoteInput } from './quote-input.ts'

/** The bounds of a numeric option, both inclusive. */
export interface NumericRange {
  readonly min: number
  readonly max: number
}

const WHOLE = /^\d+$/
const DECIMAL = /^\d+(?:\.\d+)?$/

function refuse(option: string, kind: string, range: NumericRange, value: unknown): never {
  const got = typeof value === 'string' ? quoteInput(value) : 'no value'
  throw new UserError(`${option} must be ${kind} from ${range.min} to ${range.max}, got ${got}.`)
}

/**
 * A whole-number option as commander passes it (`--limit=50`): decimal digits only (no `1e3`,
 * `0x10`, `-1` or `1.5`), within `range`, or a one-line UserError naming the option. Bounded so
 * that no value reaches a query or a timer it would overflow (`99999999999999999999`).
 * Undefined (the option not given) gives `fallback`.
 *
 * ```ts
 * wholeNumberOption(options.limit, '--limit', { min: 1, max: 1_000_000 }, 50)
 * ```
 */
export function wholeNumberOption(value: unknown, option: string, range: NumericRange, fallback: number): number
export function wholeNumberOption(value: unknown, option: string, range: NumericRange): number | undefined
export function wholeNumberOption(value: unknown, option: string, range: NumericRange, fallback?: number): number | undefined {
  if (value === undefined) return fallback
  const number = typeof value === 'string' && WHOLE.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(number) || number < range.min || number > range.max) refuse(option, 'a whole number', range, value)
  return number
}

/** Like {@link wholeNumberOption}, with a decimal fraction allowed (`--hours=1.5`). */
export function decimalOption(value: unknown, option: string, range: NumericRange): number | undefined {
  if (value === undefined) return undefined
  const number = typeof value === 'string' && DECIMAL.test(value) ? Number(value) : Number.NaN
  if (!Number.isFinite(number) || number < range.min || number > range.max) refuse(option, 'a number', range, value)
  return number
}
