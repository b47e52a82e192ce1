/**
 * The queue commands as a user runs them, in a copy of the project on its embedded SQLite
 * database: migrate, queue:work (one line per job, --json, no retry_after warning),
 * queue:failed, queue:retry, queue:forget, queue:flush, queue:clear, queue:monitor.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApplication } from 'herald'
import { copyProject } from '../support/project-copy.ts'

const copy = copyProject()
const env = { LOG_LEVEL: 'silent', DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/commands.sqlite', QUEUE_CONNECTION: 'database' }

function artisan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 2) : 0, stdout, stderr }),
    )
  })
}

/** Dispatches `flaky.job` events from this process into the copy's queue. */
async function push(...payloads: Array<{ n: number; fail: boolean }>): Promise<void> {
  const app = createApplication({ basePath: copy.root, env, envFile: false })
  await app.boot()
  try {
    for (const payload of payloads) await app.make('events').dispatch('flaky.job', payload)
  } finally {
    await app.shutdown()
  }
}

beforeAll(async () => {
  writeFileSync(
    join(copy.root, 'app/listeners/flaky-job.ts'),
    `import { Listener, ShouldQueue } from 'herald'

export default class FlakyJob extends ShouldQueue(Listener.for('flaky.job')) {
  handle(payload: { n: number; fail: boolean }) {
    if (payload.fail) throw new Error('flaky ' + payload.n + ' broke')
  }
}
`,
  )
  const migrated = await artisan(['migrate'])
  expect(migrated.stderr).toBe('')
  expect(migrated.stdout).toMatch(/create_jobs_table/)
})
afterAll(() => copy.remove())

describe('queue commands', () => {
  it('queue:work prints one line per job and stops when empty; failures land in queue:failed', async () => {
    await push({ n: 1, fail: false }, { n: 2, fail: true })
    const monitor = await artisan(['queue:monitor', 'database:default', '--max=1'])
    expect(monitor.code).toBe(1)
    expect(monitor.stdout).toMatch(/database:default\s+2\s+ALERT/)

    const work = await artisan(['queue:work', '--stop-when-empty'])
    expect(work.code).toBe(0)
    expect(work.stdout).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d FlakyJob \.+ \d+\.\d\dms DONE$/m)
    expect(work.stdout).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d FlakyJob \.+ \d+\.\d\dms FAIL {2}flaky 2 broke$/m)
    expect(work.stdout).toContain('Stopped (empty): 2 job(s), 1 failed, 0 released.')

    const failed = await artisan(['queue:failed'])
    expect(failed.stdout).toMatch(/^ID\s+Connection\s+Queue\s+Class\s+Failed At\s+Reason$/m)
    expect(failed.stdout).toMatch(/^1\s+database\s+default\s+FlakyJob\s+\d{4}-\S+\s+Error: flaky 2 broke$/m)
    const json = JSON.parse((await artisan(['queue:failed', '--json'])).stdout) as Array<{ exception: string; class: string }>
    expect(json).toHaveLength(1)
    expect(json[0]!.class).toBe('FlakyJob')
    expect(json[0]!.exception).toContain('flaky 2 broke')
  })

  it('queue:retry pushes a failed job back; queue:work --json reports it; forget and flush delete', async () => {
    const retry = await artisan(['queue:retry', 'all'])
    expect(retry.stdout).toBe('Pushed failed job 1 back onto database:default.\n')
    expect((await artisan(['queue:failed'])).stdout).toBe('No failed jobs.\n')
    const work = await artisan(['queue:work', '--once', '--json'])
    const lines = work.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines[0]).toMatchObject({ name: 'FlakyJob', status: 'FAIL', attempt: 1, error: 'flaky 2 broke' })
    expect(lines[1]).toMatchObject({ stopped: { processed: 1, failed: 1, reason: 'max-jobs' } })

    expect((await artisan(['queue:forget', '99'])).stderr).toBe('No failed job with id 99.\n')
    const [row] = JSON.parse((await artisan(['queue:failed', '--json'])).stdout) as Array<{ id: number }>
    expect((await artisan(['queue:forget', String(row!.id)])).stdout).toBe(`Failed job ${row!.id} deleted.\n`)

    await push({ n: 3, fail: true })
    await artisan(['queue:work', '--stop-when-empty'])
    expect((await artisan(['queue:flush', '--hours=1'])).stdout).toBe('Deleted 0 failed job(s) older than 1 hour(s).\n')
    expect((await artisan(['queue:flush'])).stdout).toBe('Deleted 1 failed job(s).\n')
  })

  it('queue:clear empties a queue; a --timeout longer than the lease needs no warning (leases are renewed)', async () => {
    await push({ n: 4, fail: false }, { n: 5, fail: false })
    expect((await artisan(['queue:clear'])).stdout).toBe('Cleared 2 job(s) from database:default.\n')
    const monitor = await artisan(['queue:monitor', 'database:default', '--json'])
    expect(JSON.parse(monitor.stdout)).toEqual([{ connection: 'database', queue: 'default', size: 0, alert: false }])
    const work = await artisan(['queue:work', '--stop-when-empty', '--timeout=120'])
    expect(work.code).toBe(0)
    expect(work.stderr).toBe('')
  })

  it('a payload that does not decode fails with the PayloadDecodeError, which queue:failed shows (cut to the column)', async () => {
    await artisan(['queue:flush'])
    const app = createApplication({ basePath: copy.root, env, envFile: false })
    await app.boot()
    try {
      const payload = { uuid: 'bad-date', job: 'listener', data: { listener: 'FlakyJob', event: 'flaky.job', payload: { n: 6, at: { $t: 'Date', v: 'not a date' } } } }
      await app.make('queue').pushRaw('database', 'default', JSON.stringify(payload))
    } finally {
      await app.shutdown()
    }
    const work = await artisan(['queue:work', '--stop-when-empty'])
    expect(work.stdout).toContain('Stopped (empty): 1 job(s), 1 failed, 0 released.')
    const failed = await artisan(['queue:failed'])
    expect(failed.stdout).toMatch(/^\d+\s+database\s+default\s+FlakyJob\s+\S+\s+PayloadDecodeError: payload\.at: "not a date" is not a val\.\.\.$/m)
    const [row] = JSON.parse((await artisan(['queue:failed', '--json'])).stdout) as Array<{ exception: string }>
    expect(row!.exception.split('\n')[0]).toBe('PayloadDecodeError: payload.at: "not a date" is not a valid Date')
  })

  it('rejects bad input with one line and exit 1', async () => {
    const bad = await artisan(['queue:work', '--tries=lots'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe('--tries must be a number from 0 to 2147483, got "lots".\n')
    const unknown = await artisan(['queue:work', 'nowhere'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe('Queue connection "nowhere" is not configured in config/queue.ts (known: sync, database, bullmq).\n')
  })
})
