/** The runner and the minute loop with a driven clock: filters, locks, failures, events. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  createLogger,
  MemoryLockStore,
  ScheduledTaskFailed,
  ScheduledTaskFinished,
  ScheduledTaskSkipped,
  ScheduledTaskStarting,
  ScheduleRunner,
  ScheduleWorker,
  TaskSchedule,
  type ScheduleRunnerDependencies,
} from 'herald'

function harness(overrides: Partial<ScheduleRunnerDependencies> = {}) {
  const events: object[] = []
  const jobs: Array<{ job: object; where: object }> = []
  const commands: string[][] = []
  const store = new MemoryLockStore()
  const runner = new ScheduleRunner({
    dispatch: async (event) => void events.push(event),
    dispatchJob: async (job, where) => void jobs.push({ job, where }),
    runCommand: async (command, args) => void commands.push([command, ...args]),
    locks: async () => ({ store, prefix: 'herald' }),
    logger: createLogger('silent'),
    ...overrides,
  })
  const names = () => events.map((event) => `${event.constructor.name}:${(event as { task: { name: string } }).task.name}`)
  return { events, jobs, commands, store, runner, names }
}

const at = (iso: string) => new Date(iso)

afterEach(() => void vi.useRealTimers())

describe('ScheduleRunner', () => {
  it('runs each kind of task and dispatches Starting and Finished (with the runtime)', async () => {
    const h = harness()
    const schedule = new TaskSchedule()
    const heartbeat = new (class Heartbeat {})()
    const called: Date[] = []
    schedule.command('digest:send --dry-run').everyMinute()
    schedule.call(() => void called.push(new Date())).everyMinute().name('tick')
    schedule.event(heartbeat).everyMinute()
    const reports = await h.runner.runDue(schedule, at('2026-12-04T08:00:30Z'))
    expect(reports.map((r) => [r.name, r.status])).toEqual([['digest:send --dry-run', 'DONE'], ['tick', 'DONE'], ['Heartbeat', 'DONE']])
    expect(h.commands).toEqual([['digest:send', '--dry-run']])
    expect(called).toHaveLength(1)
    expect(h.events).toContain(heartbeat)
    const finished = h.events.filter((e): e is ScheduledTaskFinished => e instanceof ScheduledTaskFinished)
    expect(finished.map((e) => e.task.name)).toEqual(['digest:send --dry-run', 'tick', 'Heartbeat'])
    expect(finished[0]!.scheduledAt).toEqual(at('2026-12-04T08:00:00Z'))
    expect(typeof finished[0]!.runtime).toBe('number')
    expect(h.events.filter((e) => e instanceof ScheduledTaskStarting)).toHaveLength(3)
  })

  it('a failing task is reported with ScheduledTaskFailed and the next task still runs', async () => {
    const h = harness()
    const schedule = new TaskSchedule()
    schedule.call(() => { throw new Error('disk full') }).everyMinute().name('broken')
    schedule.call(() => undefined).everyMinute().name('after')
    const reports = await h.runner.runDue(schedule, at('2026-12-04T08:00:00Z'))
    expect(reports.map((r) => [r.name, r.status, r.error])).toEqual([['broken', 'FAIL', 'disk full'], ['after', 'DONE', undefined]])
    const failed = h.events.find((e): e is ScheduledTaskFailed => e instanceof ScheduledTaskFailed)
    expect(failed?.error.message).toBe('disk full')
    expect(h.names()).toEqual(['ScheduledTaskStarting:broken', 'ScheduledTaskFailed:broken', 'ScheduledTaskStarting:after', 'ScheduledTaskFinished:after'])
  })

  it('a listener that throws does not stop the schedule', async () => {
    const ran: string[] = []
    const h = harness({ dispatch: async () => { throw new Error('listener down') } })
    const schedule = new TaskSchedule()
    schedule.call(() => void ran.push('x')).everyMinute().name('x')
    expect((await h.runner.runDue(schedule, at('2026-12-04T08:00:00Z')))[0]!.status).toBe('DONE')
    expect(ran).toEqual(['x'])
  })

  it('when/skip decide with the scheduler time; a filtered task dispatches ScheduledTaskSkipped', async () => {
    const h = harness()
    const schedule = new TaskSchedule()
    const seen: Date[] = []
    schedule.call(() => undefined).everyMinute().name('when-false').when(() => false)
    // A filter may be async, read the scheduler's time, or be a plain boolean.
    const inMaintenance = false
    schedule.call(() => undefined).everyMinute().name('skip-true').skip(async (now) => now.getUTCHours() === 8)
    schedule.call(() => undefined).everyMinute().name('passes').when((now) => (seen.push(now), now.getUTCMinutes() === 0)).skip(inMaintenance)
    const reports = await h.runner.runDue(schedule, at('2026-12-04T08:00:00Z'))
    expect(reports.map((r) => [r.name, r.status, r.reason])).toEqual([['when-false', 'SKIP', 'filter'], ['skip-true', 'SKIP', 'filter'], ['passes', 'DONE', undefined]])
    expect(seen).toEqual([at('2026-12-04T08:00:00Z')])
    expect(h.events.filter((e) => e instanceof ScheduledTaskSkipped).map((e) => (e as ScheduledTaskSkipped).reason)).toEqual(['filter', 'filter'])
  })

  it('withoutOverlapping skips a run while the previous one holds the lock, and releases it after', async () => {
    const h = harness()
    const schedule = new TaskSchedule()
    let finish: () => void = () => {}
    let runs = 0
    const task = schedule.call(() => { runs++; return new Promise<void>((resolve) => (finish = resolve)) }).everyMinute().name('slow').withoutOverlapping(10)
    const first = h.runner.run(task, at('2026-12-04T08:00:00Z'))
    await vi.waitFor(() => expect(runs).toBe(1))
    const second = await h.runner.run(task, at('2026-12-04T08:01:00Z'))
    expect(second).toMatchObject({ status: 'SKIP', reason: 'overlapping' })
    finish()
    expect((await first).status).toBe('DONE')
    const third = h.runner.run(task, at('2026-12-04T08:02:00Z'))
    await vi.waitFor(() => expect(runs).toBe(2))
    finish()
    expect((await third).status).toBe('DONE')
  })

  it('withoutOverlapping releases the lock when the task fails', async () => {
    const h = harness()
    const task = new TaskSchedule().call(() => { throw new Error('no') }).everyMinute().name('fails').withoutOverlapping()
    expect((await h.runner.run(task, at('2026-12-04T08:00:00Z'))).status).toBe('FAIL')
    expect((await h.runner.run(task, at('2026-12-04T08:01:00Z'))).status).toBe('FAIL')
  })

  it('onOneServer: two runners sharing a store run the task once per minute', async () => {
    const store = new MemoryLockStore()
    let runs = 0
    const schedule = new TaskSchedule()
    schedule.call(() => void runs++).everyMinute().name('once').onOneServer()
    const a = harness({ locks: async () => ({ store, prefix: 'herald' }) })
    const b = harness({ locks: async () => ({ store, prefix: 'herald' }) })
    const [ra, rb] = await Promise.all([a.runner.runDue(schedule, at('2026-12-04T08:00:10Z')), b.runner.runDue(schedule, at('2026-12-04T08:00:40Z'))])
    expect(runs).toBe(1)
    expect([ra[0]!.status, rb[0]!.status].sort()).toEqual(['DONE', 'SKIP'])
    expect([...ra, ...rb].find((r) => r.status === 'SKIP')?.reason).toBe('another-server')
    await a.runner.runDue(schedule, at('2026-12-04T08:01:00Z'))
    expect(runs).toBe(2)
  })

  it('force (schedule:test) runs a task whose filters say no', async () => {
    const h = harness()
    const task = new TaskSchedule().call(() => undefined).dailyAt('03:00').name('forced').when(() => false)
    expect((await h.runner.run(task, at('2026-12-04T08:00:00Z'), { force: true })).status).toBe('DONE')
  })

  it('a job task is queued through the Bus on its queue and connection', async () => {
    const h = harness()
    const { Job } = await import('herald')
    class PruneCarts extends Job { handle() {} }
    const job = new PruneCarts()
    const schedule = new TaskSchedule()
    schedule.job(job, 'maintenance', 'database').hourly()
    expect(schedule.tasks()[0]!.displayName).toBe('PruneCarts')
    await h.runner.runDue(schedule, at('2026-12-04T08:00:00Z'))
    expect(h.jobs).toEqual([{ job, where: { queue: 'maintenance', connection: 'database' } }])
  })
})

describe('ScheduleWorker', () => {
  it('runs the due tasks at the start of each minute, survives a failing one, and stops after the running task finishes', async () => {
    vi.useFakeTimers({ now: at('2026-12-04T07:58:30Z') })
    const h = harness()
    const schedule = new TaskSchedule()
    const ran: string[] = []
    let release: () => void = () => {}
    schedule.call(() => { throw new Error('boom') }).everyMinute().name('fails')
    schedule.call(() => void ran.push(new Date().toISOString())).everyMinute().name('tick')
    schedule.call(() => new Promise<void>((resolve) => { ran.push('long'); release = resolve })).cron('0 8 * * *').name('long')
    const worker = new ScheduleWorker(schedule, h.runner, { logger: createLogger('silent') })
    const done = worker.run()
    await vi.advanceTimersByTimeAsync(29_999)
    expect(ran).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(ran).toEqual(['2026-12-04T07:59:00.000Z'])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(ran).toEqual(['2026-12-04T07:59:00.000Z', '2026-12-04T08:00:00.000Z', 'long'])
    worker.stop()
    let stopped = false
    void done.then(() => (stopped = true))
    await vi.advanceTimersByTimeAsync(120_000)
    expect(stopped).toBe(false) // 'long' is still running
    expect(ran).toHaveLength(3) // and no minute was taken after stop()
    release()
    expect(await done).toBe(2)
    expect(h.names().filter((n) => n === 'ScheduledTaskFailed:fails')).toHaveLength(2)
  })

  it('a start that crossed a minute boundary (startedAt before it) still runs that minute', async () => {
    vi.useFakeTimers({ now: at('2026-12-04T08:00:00.300Z') })
    const h = harness()
    const schedule = new TaskSchedule()
    const ran: string[] = []
    schedule.call(() => void ran.push(new Date().toISOString())).everyMinute().name('tick')
    const worker = new ScheduleWorker(schedule, h.runner, { logger: createLogger('silent'), startedAt: at('2026-12-04T07:59:58.500Z') })
    const done = worker.run()
    await vi.advanceTimersByTimeAsync(0)
    expect(ran).toEqual(['2026-12-04T08:00:00.300Z'])
    expect(h.events.find((e): e is ScheduledTaskFinished => e instanceof ScheduledTaskFinished)?.scheduledAt).toEqual(at('2026-12-04T08:00:00Z'))
    worker.stop()
    expect(await done).toBe(1)
  })
})
