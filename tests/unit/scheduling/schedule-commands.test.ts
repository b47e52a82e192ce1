/** The schedule commands in-process, on an application of a temp folder and its app/schedule.ts. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createApplication } from 'herald'
import { runArtisan } from '../../../src/console/kernel.ts'

const dirs: string[] = []
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

async function artisan(schedule: string | null, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-schedule-cmd-'))
  dirs.push(dir)
  mkdirSync(join(dir, 'app'))
  if (schedule !== null) writeFileSync(join(dir, 'app/schedule.ts'), schedule)
  let stdout = ''
  let stderr = ''
  const code = await runArtisan(args, {
    cwd: dir,
    streams: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } },
    boot: async () => {
      const app = createApplication({ basePath: dir, envFile: false, loadConfig: false, env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent', QUEUE_CONNECTION: 'sync' } })
      await app.boot()
      return app
    },
  })
  return { code, stdout, stderr }
}

describe('schedule commands without tasks', () => {
  it('schedule:list and schedule:run say there is nothing; schedule:test refuses', async () => {
    expect(await artisan(null, ['schedule:list'])).toEqual({ code: 0, stdout: 'No scheduled tasks: add them in app/schedule.ts.\n', stderr: '' })
    expect(await artisan(null, ['schedule:list', '--json'])).toMatchObject({ code: 0, stdout: '[]\n' })
    expect(await artisan(null, ['schedule:run', '--now=2026-12-04T08:00:10Z'])).toEqual({ code: 0, stdout: '  No scheduled tasks are due at 2026-12-04 08:00 UTC.\n', stderr: '' })
    expect(await artisan(null, ['schedule:test'])).toEqual({ code: 1, stdout: '', stderr: 'There are no scheduled tasks: add them in app/schedule.ts.\n' })
  })
})

describe('schedule:test', () => {
  const file = `export default (schedule) => {
  schedule.call(() => undefined).dailyAt('03:00').name('prune-carts')
  schedule.call(() => undefined).dailyAt('04:00').name('prune-sessions')
}
`
  it('picks a task by a unique part of its name, refuses an ambiguous one', async () => {
    const picked = await artisan(file, ['schedule:test', '--name=sessions'])
    expect(picked.code).toBe(0)
    expect(picked.stdout).toMatch(/Running \["prune-sessions"\]\n {2}\d{4}-\d\d-\d\d \d\d:\d\d prune-sessions \.+ \d+\.\d\dms DONE\n$/)
    expect(await artisan(file, ['schedule:test', '--name=prune'])).toEqual({
      code: 1,
      stdout: '',
      stderr: '"prune" names 2 tasks ("prune-carts", "prune-sessions"): give the whole name.\n',
    })
  })

  it('a default export that is not a function: one line, exit 1', async () => {
    expect(await artisan('export default 42\n', ['schedule:list'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'app/schedule.ts: the default export must be a function (schedule) => { schedule.job(...) }, or nothing.\n',
    })
  })
})
