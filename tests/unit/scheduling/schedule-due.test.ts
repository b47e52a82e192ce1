/** Which tasks are due at given instants: frequency helpers, cron, time zones and DST. */
import { describe, expect, it } from 'vitest'
import { TaskSchedule, ScheduledTask, MONDAY } from 'herald'

const task = (build: (task: ScheduledTask) => ScheduledTask): ScheduledTask => build(new TaskSchedule().call(function probe() {}))
const at = (iso: string) => new Date(iso)

describe('frequency helpers write cron expressions', () => {
  it.each<[string, (task: ScheduledTask) => ScheduledTask, string]>([
    ['everyMinute', (t) => t.everyMinute(), '* * * * *'],
    ['everyTwoMinutes', (t) => t.everyTwoMinutes(), '*/2 * * * *'],
    ['everyFiveMinutes', (t) => t.everyFiveMinutes(), '*/5 * * * *'],
    ['everyFifteenMinutes', (t) => t.everyFifteenMinutes(), '*/15 * * * *'],
    ['everyThirtyMinutes', (t) => t.everyThirtyMinutes(), '0,30 * * * *'],
    ['hourly', (t) => t.hourly(), '0 * * * *'],
    ['hourlyAt', (t) => t.hourlyAt(17), '17 * * * *'],
    ['daily', (t) => t.daily(), '0 0 * * *'],
    ['dailyAt', (t) => t.dailyAt('08:05'), '5 8 * * *'],
    ['twiceDaily', (t) => t.twiceDaily(1, 13), '0 1,13 * * *'],
    ['weekly', (t) => t.weekly(), '0 0 * * 0'],
    ['weeklyOn', (t) => t.weeklyOn(MONDAY, '8:00'), '0 8 * * 1'],
    ['monthly', (t) => t.monthly(), '0 0 1 * *'],
    ['monthlyOn', (t) => t.monthlyOn(4, '15:00'), '0 15 4 * *'],
    ['quarterly', (t) => t.quarterly(), '0 0 1 1-12/3 *'],
    ['yearly', (t) => t.yearly(), '0 0 1 1 *'],
    ['weekdays + dailyAt', (t) => t.weekdays().dailyAt('08:00'), '0 8 * * 1-5'],
    ['weekends', (t) => t.weekends(), '* * * * 6,0'],
    ['fridays + hourly', (t) => t.fridays().hourly(), '0 * * * 5'],
    ['cron', (t) => t.cron('*/5 * * * *'), '*/5 * * * *'],
    ['cron nickname', (t) => t.cron('@daily'), '@daily'],
    ['a helper after a nickname', (t) => t.cron('@daily').weekdays(), '0 0 * * 1-5'],
    ['lastDayOfMonth', (t) => t.lastDayOfMonth('23:00'), '0 23 L * *'],
  ])('%s', (_name, build, expression) => {
    expect(task(build).expression).toBe(expression)
  })

  it('refuses a bad time, day or cron expression with one line', () => {
    expect(() => task((t) => t.dailyAt('25:00'))).toThrow('dailyAt: "25:00" is not a time of day: use "hh:mm" from 00:00 to 23:59.')
    expect(() => task((t) => t.days(7))).toThrow('A day of the week must be a whole number from 0 to 6, got 7.')
    expect(() => task((t) => t.timezone('Mars/Olympus'))).toThrow('timezone("Mars/Olympus"): not a time zone')
    expect(() => task((t) => t.cron('every day')).validate()).toThrow(/^The schedule of "probe\(\)" is not a cron expression \("every day"\)/)
  })
})

describe('due at a given instant', () => {
  it('matches the minute an instant falls in, seconds ignored', () => {
    const t = task((t) => t.everyFiveMinutes())
    expect(t.isDue(at('2026-12-04T08:05:00Z'))).toBe(true)
    expect(t.isDue(at('2026-12-04T08:05:59.999Z'))).toBe(true)
    expect(t.isDue(at('2026-12-04T08:06:00Z'))).toBe(false)
    expect(t.nextDue(at('2026-12-04T08:05:10Z'))).toEqual(at('2026-12-04T08:10:00Z'))
  })

  it('reads the expression in the task time zone', () => {
    const berlin = task((t) => t.dailyAt('08:00').timezone('Europe/Berlin'))
    expect(berlin.isDue(at('2026-12-04T07:00:00Z'))).toBe(true) // winter: UTC+1
    expect(berlin.isDue(at('2026-12-04T08:00:00Z'))).toBe(false)
    expect(berlin.isDue(at('2026-07-04T06:00:00Z'))).toBe(true) // summer: UTC+2
    const utc = task((t) => t.dailyAt('08:00'))
    expect(utc.isDue(at('2026-12-04T08:00:00Z'))).toBe(true)
    const tokyo = task((t) => t.weekdays().dailyAt('09:00').timezone('Asia/Tokyo'))
    // Friday 09:00 in Tokyo is Friday 00:00 UTC; Saturday 09:00 there is not a weekday.
    expect(tokyo.isDue(at('2026-12-04T00:00:00Z'))).toBe(true)
    expect(tokyo.isDue(at('2026-12-05T00:00:00Z'))).toBe(false)
  })

  it('DST spring forward: a fixed time lost to the gap runs just after it; an hourly task skips the missing hour', () => {
    const daily = task((t) => t.dailyAt('02:30').timezone('Europe/Berlin'))
    // 2026-03-29 02:00 → 03:00 in Berlin (01:00Z): 02:30 never happens; 03:00 local is 01:00Z.
    expect(daily.isDue(at('2026-03-29T01:00:00Z'))).toBe(true)
    expect(daily.isDue(at('2026-03-29T00:30:00Z'))).toBe(false)
    expect(daily.isDue(at('2026-03-30T00:30:00Z'))).toBe(true)
    const hourly = task((t) => t.hourly().timezone('Europe/Berlin'))
    expect(hourly.isDue(at('2026-03-29T00:00:00Z'))).toBe(true) // 01:00 local
    expect(hourly.isDue(at('2026-03-29T01:00:00Z'))).toBe(true) // 03:00 local
  })

  it('DST fall back: a fixed time that happens twice runs once; an interval task runs in both passes', () => {
    const daily = task((t) => t.dailyAt('02:30').timezone('Europe/Berlin'))
    // 2026-10-25 03:00 → 02:00 in Berlin: 02:30 is 00:30Z and again 01:30Z.
    const dueMinutes = [at('2026-10-25T00:30:00Z'), at('2026-10-25T01:30:00Z')].filter((d) => daily.isDue(d))
    expect(dueMinutes).toEqual([at('2026-10-25T00:30:00Z')])
    const every30 = task((t) => t.everyThirtyMinutes().timezone('Europe/Berlin'))
    expect(every30.isDue(at('2026-10-25T00:30:00Z'))).toBe(true)
    expect(every30.isDue(at('2026-10-25T01:30:00Z'))).toBe(true)
  })

  it('between/unlessBetween in the task time zone, wrapping midnight', () => {
    const schedule = new TaskSchedule()
    const night = schedule.call(function night() {}).hourly().between('22:00', '06:00').timezone('Europe/Berlin')
    const passes = async (t: ScheduledTask, now: Date) => {
      for (const filter of t.filters) if ((await filter.test(now)) !== filter.pass) return false
      return true
    }
    return Promise.all([
      expect(passes(night, at('2026-12-04T22:00:00Z'))).resolves.toBe(true), // 23:00 Berlin
      expect(passes(night, at('2026-12-04T12:00:00Z'))).resolves.toBe(false),
      expect(passes(schedule.call(function day() {}).unlessBetween('12:00', '13:00'), at('2026-12-04T12:30:00Z'))).resolves.toBe(false),
    ])
  })

  it('the schedule lists the tasks due in a minute', () => {
    const schedule = new TaskSchedule()
    schedule.call(function a() {}).everyFiveMinutes()
    schedule.call(function b() {}).hourly()
    schedule.command('digest:send --dry-run').dailyAt('08:00').timezone('Europe/Berlin')
    expect(schedule.dueTasks(at('2026-12-04T07:00:00Z')).map((t) => t.displayName)).toEqual(['a()', 'b()', 'digest:send --dry-run'])
    expect(schedule.dueTasks(at('2026-12-04T07:05:00Z')).map((t) => t.displayName)).toEqual(['a()'])
    expect(schedule.dueTasks(at('2026-12-04T07:07:00Z'))).toEqual([])
  })

  it('splits a command line, quotes kept together', () => {
    const t = new TaskSchedule().command(`digest:send --to="ops team" 'x y' --dry-run`)
    expect(t.action).toEqual({ kind: 'command', command: 'digest:send', args: ['--to=ops team', 'x y', '--dry-run'] })
    expect(() => new TaskSchedule().command('a "b')).toThrow('a quote is not closed')
  })
})
