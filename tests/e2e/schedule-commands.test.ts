/**
 * The schedule commands in a project copy, at driven times (`--now`): schedule:list, schedule:run
 * running a job, a command, a closure and an event, onOneServer across two real processes (the
 * database lock, and Redis for a bullmq connection), schedule:work stopping on SIGTERM after the
 * task in hand, and bad input.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import knex from 'knex'
import { Redis } from 'ioredis'
import { copyProject } from '../support/project-copy.ts'

const copy = copyProject()
const run = `${process.pid}-${Date.now()}`
const log = join(copy.root, 'schedule.log')
const release = join(copy.root, 'release-long-task')
const env = { LOG_LEVEL: 'silent', DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/schedule.sqlite', QUEUE_CONNECTION: 'sync', SCHEDULE_LOG: log, SCHEDULE_RELEASE: release }

function artisan(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env: { ...process.env, NO_COLOR: '1', ...env, ...extra }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 2) : 0, stdout, stderr }),
    )
  })
}

const lines = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [])

const SCHEDULE = `import { appendFileSync, existsSync } from 'node:fs'
import { Event, ScheduledTaskFinished, ScheduledTaskFailed, type Schedule } from 'herald'
import PruneCarts from './jobs/prune-carts.ts'
import { Heartbeat } from './events/heartbeat.ts'

const note = (line: string) => appendFileSync(process.env.SCHEDULE_LOG!, line + '\\n')

export default (schedule: Schedule) => {
  Event.listen(Heartbeat, () => note('event Heartbeat'))
  Event.listen(ScheduledTaskFinished, (e) => note('finished ' + e.task.name))
  Event.listen(ScheduledTaskFailed, (e) => note('failed ' + e.task.name + ': ' + e.error.message))
  schedule.job(new PruneCarts()).hourly()
  schedule.command('key:generate --show').dailyAt('09:00').timezone('Europe/Berlin').description('Print a key')
  schedule.call(() => note('call')).everyFiveMinutes().name('five-minutes')
  schedule.event(new Heartbeat()).everyMinute()
  schedule.call(() => { throw new Error('disk full') }).everyFiveMinutes().name('broken')
  schedule.call(() => note('never')).dailyAt('03:00').name('at-three')
  schedule.call(() => note('once ' + process.pid)).cron('10 8 * * *').name('once').onOneServer()
  schedule.call(async () => {
    note('long start')
    while (!existsSync(process.env.SCHEDULE_RELEASE!)) await new Promise((resolve) => setTimeout(resolve, 20))
    note('long end')
  }).everyMinute().name('long').when(() => process.env.SCHEDULE_HOLD === '1')
}
`

beforeAll(async () => {
  mkdirSync(join(copy.root, 'app/jobs'), { recursive: true })
  writeFileSync(join(copy.root, 'app/jobs/prune-carts.ts'), `import { appendFileSync } from 'node:fs'
import { Job } from 'herald'

export default class PruneCarts extends Job {
  handle() { appendFileSync(process.env.SCHEDULE_LOG!, 'job PruneCarts\\n') }
}
`)
  writeFileSync(join(copy.root, 'app/events/heartbeat.ts'), `export class Heartbeat {}\n`)
  writeFileSync(join(copy.root, 'app/schedule.ts'), SCHEDULE)
  const migrated = await artisan(['migrate'])
  expect(migrated.stderr).toBe('')
})
afterAll(() => copy.remove())

describe('schedule:list', () => {
  it('lists each task with its expression, the expression in words and its next due time in its time zone', async () => {
    const result = await artisan(['schedule:list', '--now=2026-12-04T07:59:00Z'])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    const rows = result.stdout.split('\n')
    expect(rows[0]).toMatch(/^Expression\s+Task\s+Schedule\s+Next due$/)
    expect(rows.find((row) => row.includes('key:generate'))).toMatch(/^0 9 \* \* \*\s+key:generate --show \(Print a key\)\s+At 09:00\s+2026-12-04 09:00 Europe\/Berlin$/)
    expect(rows.find((row) => row.includes('PruneCarts'))).toMatch(/^0 \* \* \* \*\s+PruneCarts\s+Every hour\s+2026-12-04 08:00 UTC$/)
    expect(rows.find((row) => row.includes('five-minutes'))).toMatch(/^\*\/5 \* \* \* \*\s+five-minutes\s+Every 5 minutes\s+2026-12-04 08:00 UTC$/)
  })

  it('--json gives the same as data', async () => {
    const result = await artisan(['schedule:list', '--json', '--now=2026-12-04T07:59:00Z'])
    const tasks = JSON.parse(result.stdout) as Array<Record<string, unknown>>
    expect(tasks.find((task) => task.name === 'key:generate --show')).toEqual({
      name: 'key:generate --show', kind: 'command', expression: '0 9 * * *', timezone: 'Europe/Berlin', description: 'Print a key',
      schedule: 'At 09:00', nextDue: '2026-12-04T08:00:00.000Z', nextDueLocal: '2026-12-04 09:00 Europe/Berlin', withoutOverlapping: false, onOneServer: false,
    })
    expect(tasks.find((task) => task.name === 'once')).toMatchObject({ onOneServer: true })
  })
})

describe('schedule:run', () => {
  it('runs the job, the command, the closure and the event due at 08:00 UTC; a failing task does not stop the others', async () => {
    writeFileSync(log, '')
    const result = await artisan(['schedule:run', '--now=2026-12-04T08:00:00Z'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/2026-12-04 08:00 PruneCarts \.+ \d+\.\d\dms DONE/)
    expect(result.stdout).toMatch(/base64:[A-Za-z0-9+/=]{40,}/) // the command's own output
    expect(result.stdout).toMatch(/key:generate --show \.+ \d+\.\d\dms DONE/)
    expect(result.stdout).toMatch(/broken \.+ \d+\.\d\dms FAIL {2}disk full/)
    expect(result.stdout).toMatch(/long \.+ filter SKIP/)
    expect(result.stdout).not.toContain('at-three')
    expect(lines()).toEqual([
      'job PruneCarts',
      'finished PruneCarts',
      'finished key:generate --show',
      'call',
      'finished five-minutes',
      'event Heartbeat',
      'finished Heartbeat',
      'failed broken: disk full',
    ])
  })

  it('at 08:01:30 only the every-minute tasks are due', async () => {
    writeFileSync(log, '')
    const result = await artisan(['schedule:run', '--now=2026-12-04T08:01:30Z'])
    expect(result.stdout).toMatch(/^ {2}2026-12-04 08:01 Heartbeat \.+ \d+\.\d\dms DONE\n {2}2026-12-04 08:01 long \.+ filter SKIP\n$/)
    expect(lines()).toEqual(['event Heartbeat', 'finished Heartbeat'])
  })
})

describe.each<{ store: string; extra: Record<string, string> }>([
  { store: 'the database (cache_locks)', extra: {} },
  { store: 'Redis (a bullmq connection)', extra: { QUEUE_CONNECTION: 'bullmq', QUEUE_PREFIX: `schedule-${run}` } },
])('onOneServer on $store', ({ extra }) => {
  it('two processes running the same minute: the task runs once', async () => {
    writeFileSync(log, '')
    const minute = extra.QUEUE_CONNECTION === 'bullmq' ? '2026-12-05T08:10:00Z' : '2026-12-04T08:10:00Z'
    const [a, b] = await Promise.all([artisan(['schedule:run', `--now=${minute}`], extra), artisan(['schedule:run', `--now=${minute}`], extra)])
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0])
    expect(lines().filter((line) => line.startsWith('once '))).toHaveLength(1)
    const outputs = [a.stdout, b.stdout]
    expect(outputs.filter((out) => /once \.+ \d+\.\d\dms DONE/.test(out))).toHaveLength(1)
    expect(outputs.filter((out) => /once \.+ another-server SKIP/.test(out))).toHaveLength(1)
    // The other tasks of the minute ran on both.
    expect(lines().filter((line) => line === 'finished Heartbeat')).toHaveLength(2)
    // The claim on the minute is where the lock store selection puts it.
    const stamp = minute.slice(0, 16).replace(/\D/g, '')
    if (extra.QUEUE_CONNECTION === 'bullmq') {
      const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
      try {
        const keys = await redis.keys(`schedule-${run}:schedule:*`)
        expect(keys).toHaveLength(1)
        expect(keys[0]).toMatch(new RegExp(`^schedule-${run}:schedule:[0-9a-f]{40}:${stamp}$`))
        await redis.del(...keys)
      } finally {
        redis.disconnect()
      }
    } else {
      const db = knex({ client: 'better-sqlite3', connection: { filename: join(copy.root, 'database/schedule.sqlite') }, useNullAsDefault: true })
      try {
        const rows = (await db('cache_locks').where('key', 'like', 'herald:schedule:%').select('key')) as Array<{ key: string }>
        expect(rows.map((row) => row.key)).toEqual([expect.stringMatching(new RegExp(`^herald:schedule:[0-9a-f]{40}:${stamp}$`))])
      } finally {
        await db.destroy()
      }
    }
  })
})

describe('schedule:test', () => {
  it('runs the named task now, whatever its schedule', async () => {
    writeFileSync(log, '')
    const result = await artisan(['schedule:test', '--name=at-three', '--now=2026-12-04T08:00:00Z'])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toContain('Running ["at-three"]')
    expect(lines()).toEqual(['never', 'finished at-three'])
  })

  it('a failing task: exit 1 with one line', async () => {
    const result = await artisan(['schedule:test', '--name=broken'])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe('Scheduled task "broken" failed: disk full\n')
  })
})

describe('schedule:work', () => {
  it('runs the due tasks at the start of the minute and, on SIGTERM, exits 0 once the running task has finished', async () => {
    writeFileSync(log, '')
    // The clock starts 1.5 s before 08:00, so the first minute comes without waiting for one.
    const child = spawn(process.execPath, ['bin/artisan', 'schedule:work', '--now=2026-12-04T07:59:58.500Z'], {
      cwd: copy.root,
      env: { ...process.env, NO_COLOR: '1', ...env, SCHEDULE_HOLD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (text += `[stderr] ${chunk.toString()}`))
    // 'close', not 'exit': the output has been read to its end.
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
    await expect.poll(() => lines(), { timeout: 30_000, interval: 50, message: text }).toContain('long start')
    // Printed before the long task started; polled, as the pipe may deliver it after the file shows it.
    await expect.poll(() => text, { timeout: 10_000, interval: 20 }).toMatch(/2026-12-04 08:00 broken \.+ \d+\.\d\dms FAIL/)
    expect(text).toMatch(/2026-12-04 08:00 PruneCarts \.+ \d+\.\d\dms DONE/)
    child.kill('SIGTERM')
    await expect.poll(() => text, { timeout: 10_000, interval: 20 }).toContain('Stopping: the running tasks finish first.')
    expect(child.exitCode).toBe(null) // the long task holds it
    writeFileSync(release, '')
    expect(await exited, text).toBe(0)
    expect(lines()).toContain('long end')
    expect(lines().indexOf('long end')).toBeGreaterThan(lines().indexOf('long start'))
    expect(text).toMatch(/long \.+ \d+\.\d\dms DONE/)
    expect(text).toContain('Stopped after 1 minute(s)')
    expect(text).not.toContain('[stderr]')
  }, 60_000)
})

describe('bad input: one line, exit 1', () => {
  it('a --now that is not an ISO time', async () => {
    expect(await artisan(['schedule:run', '--now=tomorrow'])).toEqual({ code: 1, stdout: '', stderr: '--now must be an ISO time with its offset, such as 2026-12-04T08:00:00Z, got "tomorrow".\n' })
  })

  it('schedule:test with a name no task has, or with several tasks and no name', async () => {
    const unknown = await artisan(['schedule:test', '--name=nope'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^No scheduled task is named "nope": the tasks are "PruneCarts", "key:generate --show", .*\.\n$/)
    const none = await artisan(['schedule:test'])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^Choose a task with --name=…: "PruneCarts", /)
  })

  it('an app/schedule.ts with a bad cron expression or a nameless locked closure', async () => {
    const file = join(copy.root, 'app/schedule.ts')
    try {
      writeFileSync(file, `import { Schedule } from 'herald'\nSchedule.call(() => 1).cron('61 * * * *').name('bad')\n`)
      const bad = await artisan(['schedule:list'])
      expect(bad.code).toBe(1)
      expect(bad.stdout).toBe('')
      expect(bad.stderr).toMatch(/^The schedule of "bad" is not a cron expression \("61 \* \* \* \*"\): .+\n$/)
      writeFileSync(file, `export default (schedule) => { schedule.call(() => 1).everyMinute().onOneServer() }\n`)
      const nameless = await artisan(['schedule:run'])
      expect(nameless).toEqual({ code: 1, stdout: '', stderr: "app/schedule.ts: a Schedule.call() task with withoutOverlapping() or onOneServer() needs .name('…'): its lock is keyed by the name.\n" })
      writeFileSync(file, `export default (schedule) => { schedule.command('x').dailyAt('8am') }\n`)
      expect((await artisan(['schedule:list'])).stderr).toBe('app/schedule.ts: dailyAt: "8am" is not a time of day: use "hh:mm" from 00:00 to 23:59.\n')
    } finally {
      writeFileSync(file, SCHEDULE)
    }
  })
})
