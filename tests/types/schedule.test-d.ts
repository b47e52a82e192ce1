import { describe, expectTypeOf, it } from 'vitest'
import { Job, Schedule, ScheduledTask, ScheduledTaskFailed, type TaskSchedule } from 'herald'

class PruneCarts extends Job {
  handle() {}
}

describe('the schedule types', () => {
  it('Schedule is both the facade and the type a default export receives', () => {
    const define = (schedule: Schedule) => schedule.job(new PruneCarts()).hourly().onOneServer()
    expectTypeOf(define).returns.toEqualTypeOf<ScheduledTask>()
    expectTypeOf<Schedule>().toEqualTypeOf<TaskSchedule>()
    expectTypeOf(Schedule.command('digest:send').dailyAt('08:00').timezone('Europe/Berlin')).toEqualTypeOf<ScheduledTask>()
  })

  it('refuses what is not a job, a filter that returns nothing, a non-string time', () => {
    const schedule = null as unknown as Schedule
    // @ts-expect-error a job instance, not a class
    schedule.job(PruneCarts)
    // @ts-expect-error a filter returns a boolean
    schedule.call(() => undefined).when(() => 'yes')
    // @ts-expect-error dailyAt takes 'hh:mm'
    schedule.call(() => undefined).dailyAt(8)
  })

  it('ScheduledTaskFailed carries the error and its message', () => {
    expectTypeOf<ScheduledTaskFailed['error']>().toEqualTypeOf<Error>()
    expectTypeOf<ScheduledTaskFailed['message']>().toEqualTypeOf<string>()
    expectTypeOf<ScheduledTaskFailed['runtime']>().toEqualTypeOf<number>()
  })
})
