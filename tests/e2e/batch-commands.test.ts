/**
 * queue:retry-batch and queue:prune-batches as a user runs them (bin/artisan, which runs
 * dist/: `node bin/build.mjs` first), in a copy of the project on its embedded SQLite database:
 * a batch whose job failed is worked by `queue:work`, retried by id, and pruned once finished.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Bus, bootApplication, type Job } from 'herald'
import { copyProject } from '../support/project-copy.ts'

const copy = copyProject()
const env = { LOG_LEVEL: 'silent', DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/batches.sqlite', QUEUE_CONNECTION: 'database' }

function artisan(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env: { ...process.env, ...env, ...extra }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 2) : 0, stdout, stderr }),
    )
  })
}

/** Runs `work` against the copy's application in this process (to dispatch, and to read batches). */
async function inCopy<T>(work: () => Promise<T>): Promise<T> {
  const app = await bootApplication({ basePath: copy.root, env, envFile: false })
  try {
    return await work()
  } finally {
    await app.shutdown()
  }
}

const flag = join(copy.root, 'storage-fail-2')

beforeAll(async () => {
  mkdirSync(join(copy.root, 'app/jobs'), { recursive: true })
  writeFileSync(
    join(copy.root, 'app/jobs/flaky-step.ts'),
    `import { existsSync } from 'node:fs'
import { Job } from 'herald'

export default class FlakyStep extends Job {
  tries = 1
  constructor(readonly n: number, readonly flag: string) { super() }
  handle() {
    if (existsSync(this.flag)) throw new Error('step ' + this.n + ' broke')
  }
}
`,
  )
  const migrated = await artisan(['migrate'])
  expect(migrated.stderr).toBe('')
  expect(migrated.stdout).toMatch(/create_job_batches_table/)
})
afterAll(() => copy.remove())

describe('batch commands', () => {
  it('queue:retry-batch pushes the failed jobs of a batch back; queue:prune-batches deletes it once finished', async () => {
    writeFileSync(flag, '')
    const { default: FlakyStep } = (await import(pathToFileURL(join(copy.root, 'app/jobs/flaky-step.ts')).href)) as { default: new (n: number, flag: string) => Job }
    const id = await inCopy(async () => (await Bus.batch([new FlakyStep(1, join(copy.root, 'never')), new FlakyStep(2, flag)]).allowFailures().name('e2e').dispatch()).id)

    const work = await artisan(['queue:work', '--stop-when-empty'])
    expect(work.stdout).toContain('Stopped (empty): 2 job(s), 1 failed, 0 released.')
    expect(await inCopy(() => Bus.findBatch(id))).toMatchObject({ name: 'e2e', totalJobs: 2, pendingJobs: 1, failedJobs: 1, finished: true })

    rmSync(flag)
    expect(existsSync(flag)).toBe(false)
    const retried = await artisan(['queue:retry-batch', id])
    expect(retried).toMatchObject({ code: 0, stderr: '' })
    expect(retried.stdout).toBe(`Pushed 1 failed job(s) of batch ${id} back onto their queues.\n`)
    const again = await artisan(['queue:work', '--stop-when-empty'])
    expect(again.stdout).toContain('Stopped (empty): 1 job(s), 0 failed, 0 released.')
    expect(await inCopy(() => Bus.findBatch(id))).toMatchObject({ pendingJobs: 0, failedJobIds: [], progress: 100 })
    expect((await artisan(['queue:failed', '--json'])).stdout.trim()).toBe('[]')

    expect((await artisan(['queue:prune-batches'])).stdout).toBe('Deleted 0 finished batch(es) older than 24 hour(s).\n')
    expect((await artisan(['queue:prune-batches', '--hours=0'])).stdout).toBe('Deleted 1 finished batch(es) older than 0 hour(s).\n')
    expect(await inCopy(() => Bus.findBatch(id))).toBeNull()
  })

  it('bad input is one line and exit 1', async () => {
    const missing = await artisan(['queue:retry-batch', 'no-such-batch'])
    expect(missing).toMatchObject({ code: 1, stdout: '' })
    expect(missing.stderr.trim().split('\n')).toHaveLength(1)
    expect(missing.stderr).toContain('No job batch with id no-such-batch.')

    const bad = await artisan(['queue:retry-batch', "x'; drop table job_batches"])
    expect(bad.code).toBe(1)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toContain('is not a batch id')

    const hours = await artisan(['queue:prune-batches', '--hours=soon'])
    expect(hours.code).toBe(1)
    expect(hours.stderr.trim().split('\n')).toHaveLength(1)
    expect(hours.stderr).toContain('--hours must be a number from 0 to 1000000, got "soon".')
  })

  it.each(['-1', '1e400', '0x10', '2000000', ''])('queue:prune-batches --hours=%j is one line and exit 1', async (value) => {
    const run = await artisan(['queue:prune-batches', `--hours=${value}`])
    expect(run).toMatchObject({ code: 1, stdout: '' })
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toMatch(/--hours must be a number from 0 to 1000000, got /)
  })

  it('a database without the job_batches table is one line naming the fix', async () => {
    const run = await artisan(['queue:prune-batches'], { DB_DATABASE: 'database/never-migrated.sqlite' })
    expect(run.code).toBe(1)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toContain('The table "job_batches" does not exist on database connection "sqlite": run "artisan migrate"')
  })
})
