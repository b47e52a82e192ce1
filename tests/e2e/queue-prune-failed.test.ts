/**
 * `artisan queue:prune-failed [--hours=24]` as a user runs it, in a copy of the project on its
 * SQLite database: deletes the failed jobs older than N hours (24 by default), says how many,
 * and refuses a bad --hours with one line and exit 1, deleting nothing.
 */
import { execFile } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApplication, type Knex } from 'herald'
import { copyProject } from '../support/project-copy.ts'

const copy = copyProject()
const env = { LOG_LEVEL: 'silent', DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/prune.sqlite', QUEUE_CONNECTION: 'database' }

function artisan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 2) : 0, stdout, stderr }),
    )
  })
}

/** Runs `work` on the copy's database, from this process. */
async function onDatabase<T>(work: (knex: Knex) => Promise<T>): Promise<T> {
  const app = createApplication({ basePath: copy.root, env, envFile: false })
  await app.boot()
  try {
    return await work(await app.make('db').connection())
  } finally {
    await app.shutdown()
  }
}

const HOUR = 3_600_000

/** Failed jobs that failed this many hours ago, named by their age. */
async function failedHoursAgo(...hours: number[]): Promise<void> {
  await onDatabase(async (knex) => {
    await knex('failed_jobs').delete()
    for (const age of hours) {
      await knex('failed_jobs').insert({ uuid: `age-${age}`, connection: 'database', queue: 'default', payload: '{}', exception: 'Error: boom', failed_at: new Date(Date.now() - age * HOUR) })
    }
  })
}

const remaining = () => onDatabase(async (knex) => (await knex('failed_jobs').select('uuid').orderBy('uuid')).map((row: { uuid: string }) => row.uuid))

beforeAll(async () => {
  const migrated = await artisan(['migrate'])
  expect(migrated.stderr).toBe('')
})
afterAll(() => copy.remove())

describe('queue:prune-failed', () => {
  it('deletes the failed jobs older than 24 hours by default, and says how many', async () => {
    await failedHoursAgo(48, 25, 23, 0.1)
    expect(await artisan(['queue:prune-failed'])).toEqual({ code: 0, stdout: 'Pruned 2 failed job(s) older than 24 hour(s).\n', stderr: '' })
    expect(await remaining()).toEqual(['age-0.1', 'age-23'])
    expect(await artisan(['queue:prune-failed'])).toEqual({ code: 0, stdout: 'Pruned 0 failed job(s) older than 24 hour(s).\n', stderr: '' })
  })

  it('takes --hours, fractions included; --hours=0 deletes them all', async () => {
    await failedHoursAgo(30, 5, 1, 0.25)
    expect((await artisan(['queue:prune-failed', '--hours=2'])).stdout).toBe('Pruned 2 failed job(s) older than 2 hour(s).\n')
    expect((await artisan(['queue:prune-failed', '--hours', '0.5'])).stdout).toBe('Pruned 1 failed job(s) older than 0.5 hour(s).\n')
    expect(await remaining()).toEqual(['age-0.25'])
    expect((await artisan(['queue:prune-failed', '--hours=0'])).stdout).toBe('Pruned 1 failed job(s) older than 0 hour(s).\n')
    expect(await remaining()).toEqual([])
  })

  it('refuses a bad --hours with one line and exit 1, deleting nothing', async () => {
    await failedHoursAgo(48)
    for (const value of ['abc', '-1', '1e3', '24h', '', '99999999']) {
      const result = await artisan(['queue:prune-failed', `--hours=${value}`])
      expect({ value, ...result }).toEqual({ value, code: 1, stdout: '', stderr: `--hours must be a number from 0 to 1000000, got "${value}".\n` })
    }
    expect(await remaining()).toEqual(['age-48'])
  })
})
