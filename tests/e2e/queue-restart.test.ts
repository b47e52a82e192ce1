/**
 * `artisan queue:restart` against real `queue:work` processes, on the database driver (SQLite)
 * and on BullMQ (Redis), the signal in the SQLite database both times: the worker finishes the
 * job in hand, takes no other, and exits 0 with a line saying why.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApplication, type Application, type Job } from 'herald'
import { copyProject } from '../support/project-copy.ts'

const copy = copyProject()
const run = `${process.pid}-${Date.now()}`

function artisan(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 2) : 0, stdout, stderr }),
    )
  })
}

interface Worker {
  readonly process: ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
}

function startWorker(args: string[], env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['bin/artisan', 'queue:work', ...args], {
    cwd: copy.root,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (text += `[stderr] ${chunk.toString()}`))
  return { process: child, output: () => text, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) }
}

const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [])

/** Pushes a HoldUntilStopped job from this process onto `queue` of the copy. */
async function dispatchOn(queue: string, env: Record<string, string>, name: string): Promise<void> {
  const app: Application = createApplication({ basePath: copy.root, env: { ...env, LOG_LEVEL: 'silent' }, envFile: false })
  await app.boot()
  try {
    const found = app.make('jobs.discovered').find((entry) => entry.name === 'HoldUntilStopped')
    if (found === undefined) throw new Error('HoldUntilStopped was not discovered')
    const HoldUntilStopped = found.job as new (log: string, name: string) => Job
    await app.make('bus').dispatch(new HoldUntilStopped(log, name), { queue })
  } finally {
    await app.shutdown()
  }
}

const log = join(copy.root, 'hold.log')

beforeAll(async () => {
  // A job that, once started, holds until its worker is told to stop (its signal aborts), then
  // finishes its work: proof that the worker saw the restart while the job was in hand.
  mkdirSync(join(copy.root, 'app/jobs'), { recursive: true })
  writeFileSync(
    join(copy.root, 'app/jobs/hold-until-stopped.ts'),
    `import { appendFileSync } from 'node:fs'
import { Job } from 'herald'

export default class HoldUntilStopped extends Job {
  timeout = 120
  constructor(readonly log: string, readonly name: string) {
    super()
  }
  async handle() {
    appendFileSync(this.log, 'start ' + this.name + ' ' + process.pid + '\\n')
    const signal = this.signal
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })))
    appendFileSync(this.log, 'end ' + this.name + ' ' + process.pid + '\\n')
  }
}
`,
  )
})
afterAll(() => copy.remove())

describe.each<{ driver: string; env: Record<string, string> }>([
  { driver: 'database', env: { QUEUE_CONNECTION: 'database' } },
  { driver: 'bullmq', env: { QUEUE_CONNECTION: 'bullmq', QUEUE_PREFIX: `restart-${run}` } },
])('queue:restart with the $driver driver', ({ driver, env: driverEnv }) => {
  const env = { LOG_LEVEL: 'silent', DB_CONNECTION: 'sqlite', DB_DATABASE: `database/restart-${driver}.sqlite`, ...driverEnv }
  const queue = `restart-${driver}-${run}`

  it('migrates (the queue_signals table comes with the project)', async () => {
    const migrated = await artisan(['migrate'], env)
    expect(migrated.stderr).toBe('')
    expect(migrated.stdout).toMatch(/create_queue_signals_table/)
  })

  it('the worker finishes the job in hand, takes no other, and exits 0 saying why', async () => {
    writeFileSync(log, '')
    const worker = startWorker([`--queue=${queue}`, '--sleep=0.5'], env)
    await expect.poll(() => worker.output(), { timeout: 30_000, interval: 50 }).toContain('Processing jobs')
    await dispatchOn(queue, env, 'first')
    await expect.poll(() => lines(log), { timeout: 30_000, interval: 50, message: worker.output() }).toEqual([`start first ${worker.process.pid}`])
    // Queued behind the one in hand: a restarting worker must leave it for the next worker.
    await dispatchOn(queue, env, 'second')

    const restart = await artisan(['queue:restart'], env)
    expect(restart).toMatchObject({ code: 0, stderr: '' })
    expect(restart.stdout).toMatch(/^Broadcast the queue restart signal \(\d{4}-\d\d-\d\dT[\d:.]+Z\): workers exit after their jobs in hand\.\n$/)

    expect(await worker.exited, worker.output()).toBe(0)
    expect(lines(log)).toEqual([`start first ${worker.process.pid}`, `end first ${worker.process.pid}`])
    expect(worker.output()).toMatch(/HoldUntilStopped \.+ \d+\.\d\dms DONE/)
    expect(worker.output()).toContain('Restarting: queue:restart was run, so this worker stops after its jobs in hand (1 job(s), 0 failed, 0 released)')
    expect(worker.output()).not.toContain('[stderr]')

    // The next worker (started after the restart) is not stopped by it, and runs the job left over.
    writeFileSync(log, '')
    const next = startWorker([`--queue=${queue}`, '--sleep=0.5'], env)
    await expect.poll(() => lines(log), { timeout: 30_000, interval: 50, message: next.output() }).toEqual([`start second ${next.process.pid}`])
    next.process.kill('SIGTERM')
    expect(await next.exited, next.output()).toBe(0)
    expect(next.output()).toContain('Stopped (signal): 1 job(s)')
  }, 90_000)
})

describe('queue:restart and serve', () => {
  const env = { LOG_LEVEL: 'silent', DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/restart-serve.sqlite', QUEUE_CONNECTION: 'database' }

  it("serve's in-process worker stops, and the server with it, exiting 0", async () => {
    const child = spawn(process.execPath, ['bin/artisan', 'serve', '--port=0'], { cwd: copy.root, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (text += `[stderr] ${chunk.toString()}`))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    await expect.poll(() => text, { timeout: 30_000, interval: 50 }).toContain('Herald is serving')
    expect((await artisan(['queue:restart'], env)).code).toBe(0)
    expect(await exited, text).toBe(0)
    expect(text).toContain('Restarting: queue:restart was run; the worker finished its jobs in hand, stopping the server…')
    expect(text).toContain('Stopped.')
    expect(text).not.toContain('[stderr]')
  }, 60_000)
})

describe('queue:restart refusals', () => {
  it('on a database not migrated: one line naming the fix, exit 1', async () => {
    const result = await artisan(['queue:restart'], { LOG_LEVEL: 'silent', DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/restart-unmigrated.sqlite' })
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'The table "queue_signals" does not exist on database connection "sqlite": run "artisan migrate" (with --database=sqlite if it is not the default).\n',
    })
  })

  it('on a database that cannot be reached: one line naming it and its address, exit 1', async () => {
    const result = await artisan(['queue:restart'], { LOG_LEVEL: 'silent', DB_CONNECTION: 'pgsql', DB_HOST: '127.0.0.1', DB_PORT: '1', DB_PASSWORD: 'hunter2-secret' })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    expect(result.stderr).toMatch(/^Database "pgsql" at 127\.0\.0\.1:1 is unreachable/)
    expect(result.stderr).not.toContain('hunter2-secret')
  })
})
