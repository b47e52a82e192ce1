import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { Application } from '../foundation/application.ts'
import { UserError } from '../foundation/errors.ts'
import { errorMessage } from '../foundation/error-message.ts'
import { runArtisan } from './artisan-process.ts'
import { Schedule } from './schedule.ts'
import { ScheduleRunner } from './schedule-runner.ts'

/** The application's schedule file, under its base path. */
export const SCHEDULE_FILES = ['app/schedule.ts', 'app/schedule.js']

const schedules = new WeakMap<Application, Schedule>()
const loaded = new WeakMap<Application, Promise<Schedule>>()

/** The schedule of `app` (empty until tasks are added): what the `Schedule` facade writes to. */
export function scheduleFor(app: Application): Schedule {
  let schedule = schedules.get(app)
  if (schedule === undefined) {
    schedule = new Schedule()
    schedules.set(app, schedule)
  }
  return schedule
}

/**
 * The schedule of `app` with app/schedule.ts loaded (once per application): its default export,
 * when a function, is called with the schedule; `Schedule.*` calls at the top level of the file
 * go to the application behind the facades. Loaded only by the schedule commands, so no other
 * process pays for it. Every task is checked here: a bad expression, or a lock on a task with no
 * name, stops with one line.
 */
export function loadSchedule(app: Application): Promise<Schedule> {
  let schedule = loaded.get(app)
  if (schedule === undefined) {
    schedule = importScheduleFile(app)
    loaded.set(app, schedule)
  }
  return schedule
}

async function importScheduleFile(app: Application): Promise<Schedule> {
  const schedule = scheduleFor(app)
  const file = SCHEDULE_FILES.find((name) => existsSync(app.path(name)))
  if (file !== undefined) {
    let module: { default?: unknown }
    try {
      module = (await import(pathToFileURL(app.path(file)).href)) as { default?: unknown }
      if (module.default !== undefined && typeof module.default !== 'function') {
        throw new UserError('the default export must be a function (schedule) => { schedule.job(...) }, or nothing.')
      }
      if (typeof module.default === 'function') await (module.default as (schedule: Schedule) => unknown)(schedule)
    } catch (error) {
      throw new UserError(`${file}: ${errorMessage(error)}`)
    }
  }
  for (const task of schedule.tasks()) {
    task.validate()
    if ((task.overlapMinutes !== null || task.runsOnOneServer) && !task.hasStableName) {
      throw new UserError(`${file ?? 'The schedule'}: a Schedule.call() task with withoutOverlapping() or onOneServer() needs .name('…'): its lock is keyed by the name.`)
    }
  }
  return schedule
}

/**
 * The runner of `app`'s schedule: events through its dispatcher, jobs through its Bus, commands
 * as `bin/artisan` child processes, locks where the default queue connection's job locks live
 * (Redis for bullmq, else the database's cache_locks table).
 */
export function scheduleRunner(app: Application): ScheduleRunner {
  return new ScheduleRunner({
    dispatch: (event) => app.make('events').dispatch(event),
    dispatchJob: (job, where) => app.make('bus').dispatch(job, where),
    runCommand: (command, args) => runArtisan(app.basePath, command, args),
    locks: () => app.make('jobs.locks').forConnection(app.make('queue').defaultConnection),
    logger: app.logger,
  })
}
