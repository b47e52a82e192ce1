/**
 * The scheduler on a booted application (SQLite, the event store on): its events go through the
 * application's dispatcher to listeners and into the store, jobs through its Bus, the overlap
 * lock into the database's cache_locks; app/schedule.ts is loaded once, both ways of writing it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Job, Queue, ScheduledTaskFailed, ScheduledTaskFinished, TaskSchedule, loadSchedule, scheduleFor, scheduleRunner, setFacadeRoot, type Application, type Knex } from 'herald'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { bootMigrated } from '../support/event-store-app.ts'

class PruneCarts extends Job {
  handle() {}
}

describe('the scheduler on a booted application', () => {
  let database: FreshDatabase
  let app: Application
  let knex: Knex

  beforeAll(async () => {
    database = await freshDatabase('sqlite')
    ;({ app, knex } = await bootMigrated(database))
    setFacadeRoot(app) // Queue.fake() below fakes this application's queue
  })
  afterAll(async () => {
    setFacadeRoot(null)
    await app?.shutdown()
    await database?.drop()
  })

  it('dispatches Starting/Finished/Failed through the app: listeners and the event store see them', async () => {
    const seen: string[] = []
    app.make('events').listen(ScheduledTaskFinished, (event) => void seen.push(`finished ${event.task.name}`))
    app.make('events').listen(ScheduledTaskFailed, (event) => void seen.push(`failed ${event.task.name}: ${event.error.message}`))
    const schedule = new TaskSchedule()
    schedule.call(() => undefined).everyMinute().name('ok')
    schedule.call(() => { throw new Error('disk full') }).everyMinute().name('broken')
    const reports = await scheduleRunner(app).runDue(schedule, new Date('2026-12-04T08:00:00Z'))
    expect(reports.map((r) => r.status)).toEqual(['DONE', 'FAIL'])
    expect(seen).toEqual(['finished ok', 'failed broken: disk full'])
    const stored = await app.make('events.store').history({})
    expect(stored.map((row) => row.name).sort()).toEqual(['ScheduledTaskFailed', 'ScheduledTaskFinished', 'ScheduledTaskStarting', 'ScheduledTaskStarting'])
    // The store keeps the serializer's JSON: the event's fields under v.
    const failed = (stored.find((row) => row.name === 'ScheduledTaskFailed')!.payload as { v: Record<string, unknown> }).v
    expect(failed).toMatchObject({ task: { name: 'broken', kind: 'call', expression: '* * * * *', timezone: 'UTC' }, message: 'disk full' })
    expect(typeof failed.runtime).toBe('number')
  })

  it('a job task is queued through the Bus', async () => {
    using queue = Queue.fake()
    const schedule = new TaskSchedule()
    schedule.job(new PruneCarts(), 'maintenance').hourly()
    await scheduleRunner(app).runDue(schedule, new Date('2026-12-04T08:00:00Z'))
    queue.assertPushedOn('maintenance', PruneCarts)
  })

  it('withoutOverlapping holds its lock in cache_locks while the task runs, and releases it', async () => {
    let finish: () => void = () => {}
    let started = false
    const schedule = new TaskSchedule()
    const task = schedule.call(() => new Promise<void>((resolve) => { started = true; finish = resolve })).everyMinute().name('slow').withoutOverlapping(5)
    const runner = scheduleRunner(app)
    const first = runner.run(task, new Date('2026-12-04T08:00:00Z'))
    await expect.poll(() => started).toBe(true)
    const rows = (await knex('cache_locks').where('key', 'like', 'herald:schedule:%').select('key', 'expiration')) as Array<{ key: string; expiration: number }>
    expect(rows).toHaveLength(1)
    expect(Number(rows[0]!.expiration) - Date.now()).toBeGreaterThan(4 * 60_000)
    expect(await runner.run(task, new Date('2026-12-04T08:01:00Z'))).toMatchObject({ status: 'SKIP', reason: 'overlapping' })
    finish()
    expect((await first).status).toBe('DONE')
    expect(await knex('cache_locks').where('key', 'like', 'herald:schedule:%').count({ n: '*' })).toEqual([{ n: 0 }])
  })
})

describe('loadSchedule', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-schedule-'))
    mkdirSync(join(dir, 'app'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('calls the default export with the application schedule, once', async () => {
    writeFileSync(join(dir, 'app/schedule.ts'), `export default (schedule) => { schedule.command('queue:prune-failed --hours=48').daily().name('prune') }\n`)
    const { createApplication } = await import('herald')
    const app = createApplication({ basePath: dir, envFile: false, loadConfig: false, env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' } })
    const schedule = await loadSchedule(app)
    expect(schedule).toBe(scheduleFor(app))
    expect(await loadSchedule(app)).toBe(schedule)
    expect(schedule.tasks().map((task) => [task.displayName, task.expression])).toEqual([['prune', '0 0 * * *']])
  })
})
