import { UserError } from '../foundation/errors.ts'
import { ulidTime } from '../foundation/ulid.ts'
import { wholeNumberOption } from './numeric-option.ts'
import { quoteInput } from './quote-input.ts'

/** What `event:history` and `event:replay` accept: checked here, so bad input is one line and exit 1. */

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/

/** `--event=a,b`: the names, or undefined when not given. */
export function parseNames(value: unknown): string[] | undefined {
  if (typeof value !== 'string') return undefined
  const names = value.split(',').map((name) => name.trim()).filter((name) => name.length > 0)
  if (names.length === 0) throw new UserError('--event needs at least one event name, e.g. --event=OrderPlaced,UserRegistered.')
  return names
}

/** The longest `--tag`, `--stream` or `--correlation` taken: the store's columns hold 255 characters. */
const MAX_TEXT = 255

/** `--tag=orders`, `--stream=account-7`, `--correlation=…`: the text, or undefined when not given. */
export function parseText(value: unknown, option: string, example: string): string | undefined {
  if (value === undefined) return undefined
  const text = String(value).trim()
  if (text.length === 0 || text.length > MAX_TEXT) {
    throw new UserError(`${option} needs a value of 1 to ${MAX_TEXT} characters, e.g. ${option}=${example}, got ${quoteInput(text)}.`)
  }
  return text
}

/** An ISO 8601 date or date-time (`2026-11-23`, `2026-11-23T10:00:00Z`). */
export function parseDate(value: unknown, option: string): Date | undefined {
  if (value === undefined) return undefined
  const text = String(value)
  const time = ISO_DATE.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(time)) throw new UserError(`${option} must be an ISO date such as 2026-11-23 or 2026-11-23T10:00:00Z, got ${quoteInput(text)}.`)
  return new Date(time)
}

/**
 * `--from` / `--to` of a replay: an event id, or an ISO date turned into the first (`--from`) or
 * last (`--to`) id of that millisecond, since ULIDs begin with their time.
 */
export function parseBound(value: unknown, option: '--from' | '--to'): string | undefined {
  if (value === undefined) return undefined
  const text = String(value)
  if (ULID.test(text)) return text.toUpperCase()
  if (!ISO_DATE.test(text) || Number.isNaN(Date.parse(text))) {
    throw new UserError(`${option} must be an event id (from event:history) or an ISO date such as 2026-11-23T10:00:00Z, got ${quoteInput(text)}.`)
  }
  return ulidTime(Date.parse(text)) + (option === '--from' ? '0' : 'Z').repeat(16)
}

const AGE = /^(\d{1,6})([dh])$/
const HOUR_MS = 3_600_000
/** The longest `--older-than`: a hundred years. */
const MAX_AGE_DAYS = 36_500

/** `--older-than=90d` (days) or `=12h` (hours): the age in milliseconds, from 1 hour to 100 years. */
export function parseAge(value: unknown, option: string): number {
  const match = typeof value === 'string' ? AGE.exec(value.trim()) : null
  const hours = match === null ? Number.NaN : Number(match[1]) * (match[2] === 'd' ? 24 : 1)
  if (!(hours >= 1 && hours <= MAX_AGE_DAYS * 24)) {
    throw new UserError(`${option} must be an age in days or hours such as 90d or 12h (at most ${MAX_AGE_DAYS}d), got ${typeof value === 'string' ? quoteInput(value) : 'no value'}.`)
  }
  return hours * HOUR_MS
}

/** The most events `event:history` lists at once: they are all held in memory to print. */
export const MAX_LIMIT = 1_000_000

/** `--limit`: a whole number from 1 to {@link MAX_LIMIT}. */
export function parseLimit(value: unknown, fallback: number): number {
  return wholeNumberOption(value, '--limit', { min: 1, max: MAX_LIMIT }, fallback)
}

/** Checks that `since` is not after `until`. */
export function checkRange(since: Date | undefined, until: Date | undefined, names: string): void {
  if (since !== undefined && until !== undefined && since.getTime() > until.getTime()) {
    throw new UserError(`${names}: the start is after the end.`)
  }
}
