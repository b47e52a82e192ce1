import { UserError } from '../foundation/errors.ts'

/** Days of the week as cron numbers (0 is Sunday). */
export const SUNDAY = 0
export const MONDAY = 1
export const TUESDAY = 2
export const WEDNESDAY = 3
export const THURSDAY = 4
export const FRIDAY = 5
export const SATURDAY = 6

/** `hh:mm` (or `h:mm`, or `hh`) checked, as [hour, minute]. */
export function parseTime(time: string, what: string): [number, number] {
  const match = /^(\d{1,2})(?::(\d{2}))?$/.exec(String(time).trim())
  const hour = match ? Number(match[1]) : Number.NaN
  const minute = match?.[2] === undefined ? 0 : Number(match[2])
  if (!(hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59)) {
    throw new UserError(`${what}: "${String(time)}" is not a time of day: use "hh:mm" from 00:00 to 23:59.`)
  }
  return [hour, minute]
}

/** The nicknames croner reads, spelled out, so a helper after `cron('@daily')` adds to it. */
const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}

function checkInt(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new UserError(`${what} must be a whole number from ${min} to ${max}, got ${String(value)}.`)
  return value
}

/**
 * Laravel's `ManagesFrequencies`: each helper writes into a five-field cron expression
 * (`minute hour day-of-month month day-of-week`), so `weekdays().dailyAt('08:00')` combines.
 */
export abstract class ManagesFrequencies {
  /** The cron expression (five fields), `* * * * *` until a helper changes it. */
  expression = '* * * * *'

  /** Any cron expression croner reads (five fields; `@daily` style nicknames too). */
  cron(expression: string): this {
    this.expression = expression.trim()
    return this
  }

  everyMinute(): this { return this.splice(0, '*') }
  everyTwoMinutes(): this { return this.splice(0, '*/2') }
  everyThreeMinutes(): this { return this.splice(0, '*/3') }
  everyFourMinutes(): this { return this.splice(0, '*/4') }
  everyFiveMinutes(): this { return this.splice(0, '*/5') }
  everyTenMinutes(): this { return this.splice(0, '*/10') }
  everyFifteenMinutes(): this { return this.splice(0, '*/15') }
  everyThirtyMinutes(): this { return this.splice(0, '0,30') }
  hourly(): this { return this.splice(0, '0') }

  /** Every hour at minute `minute` (or several: `hourlyAt([15, 45])`). */
  hourlyAt(minute: number | readonly number[]): this {
    const minutes = (typeof minute === 'number' ? [minute] : minute).map((m) => checkInt(m, 0, 59, 'hourlyAt(minute)'))
    return this.splice(0, minutes.join(','))
  }

  everyTwoHours(): this { return this.splice(0, '0').splice(1, '*/2') }
  everyThreeHours(): this { return this.splice(0, '0').splice(1, '*/3') }
  everyFourHours(): this { return this.splice(0, '0').splice(1, '*/4') }
  everySixHours(): this { return this.splice(0, '0').splice(1, '*/6') }
  daily(): this { return this.splice(0, '0').splice(1, '0') }

  /** Every day at `hh:mm`. */
  dailyAt(time: string): this {
    const [hour, minute] = parseTime(time, 'dailyAt')
    return this.splice(0, String(minute)).splice(1, String(hour))
  }

  /** Every day at `first` and `second` o'clock (default 1 and 13), at minute `minute`. */
  twiceDaily(first = 1, second = 13, minute = 0): this {
    checkInt(first, 0, 23, 'twiceDaily(first)')
    checkInt(second, 0, 23, 'twiceDaily(second)')
    return this.splice(0, String(checkInt(minute, 0, 59, 'twiceDaily(minute)'))).splice(1, `${first},${second}`)
  }

  weekdays(): this { return this.splice(4, '1-5') }
  weekends(): this { return this.splice(4, '6,0') }
  mondays(): this { return this.days(MONDAY) }
  tuesdays(): this { return this.days(TUESDAY) }
  wednesdays(): this { return this.days(WEDNESDAY) }
  thursdays(): this { return this.days(THURSDAY) }
  fridays(): this { return this.days(FRIDAY) }
  saturdays(): this { return this.days(SATURDAY) }
  sundays(): this { return this.days(SUNDAY) }

  /** Only on these days of the week (0 Sunday … 6 Saturday). */
  days(...days: number[]): this {
    if (days.length === 0) throw new UserError('days() needs at least one day of the week (0 Sunday … 6 Saturday).')
    return this.splice(4, days.map((day) => checkInt(day, 0, 6, 'A day of the week')).join(','))
  }

  /** Sundays at 00:00. */
  weekly(): this { return this.splice(0, '0').splice(1, '0').splice(4, '0') }

  /** Each week on `day` (0 Sunday … 6 Saturday) at `time`. */
  weeklyOn(day: number, time = '0:00'): this {
    return this.dailyAt(time).days(day)
  }

  /** The first of the month at 00:00. */
  monthly(): this { return this.splice(0, '0').splice(1, '0').splice(2, '1') }

  /** Each month on `day` (1-31) at `time`. */
  monthlyOn(day = 1, time = '0:00'): this {
    return this.dailyAt(time).splice(2, String(checkInt(day, 1, 31, 'monthlyOn(day)')))
  }

  /** The last day of the month at `time`. */
  lastDayOfMonth(time = '0:00'): this {
    return this.dailyAt(time).splice(2, 'L')
  }

  /** The first day of each quarter at 00:00. */
  quarterly(): this { return this.monthly().splice(3, '1-12/3') }

  /** January the 1st at 00:00. */
  yearly(): this { return this.monthly().splice(3, '1') }

  /** Writes `value` into field `index` of the expression (a nickname is spelled out first). */
  protected splice(index: number, value: string): this {
    const fields = (NICKNAMES[this.expression.toLowerCase()] ?? this.expression).split(/\s+/)
    const base = fields.length === 5 ? fields : ['*', '*', '*', '*', '*']
    base[index] = value
    this.expression = base.join(' ')
    return this
  }
}
