/**
 * At-least-once delivery when a worker dies: a real `artisan queue:work` process is killed
 * with SIGKILL while it holds jobs, a second one takes over, and every job completes; then the
 * second one gets SIGTERM and exits 0 after the job in hand.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { createApplication } from 'herald'
import { freshDatabase } from '../support/fresh-database.ts'
import { copyProject } from '../support/project-copy.ts'

interface CrashCase {
  readonly name: string
  readonly env: Record<string, string>
  readonly server?: 'pgsql' | 'mysql'
}

const JOBS = 60
const run = `${process.pid}-${Date.now()}`

const cases: CrashCase[] = [
  { name: 'database on SQLite', env: { DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/crash.sqlite', QUEUE_CONNECTION: 'database' } },
  // DB_DATABASE: a database of the test's own (freshDatabase), set in the test.
  { name: 'database on PostgreSQL', env: { DB_CONNECTION: 'pgsql', QUEUE_CONNECTION: 'database' }, server: 'pgsql' },
  { name: 'database on MariaDB', env: { DB_CONNECTION: 'mysql', QUEUE_CONNECTION: 'database' }, server: 'mysql' },
  { name: 'bullmq on Redis', env: { DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/crash.sqlite', QUEUE_CONNECTION: 'bullmq', QUEUE_PREFIX: `crash-${run}` } },
]

const copy = copyProject()
/** Every process started here, killed at the end whatever happened, so none outlives the suite. */
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  copy.remove()
})

// A queued listener in the copied application: it works a little, then logs the job's number.
writeFileSync(
  join(copy.root, 'app/listeners/crash-recorder.ts'),
  `import { appendFileSync } from 'node:fs'
import { Listener, ShouldQueue } from 'herald'

export default class CrashRecorder extends ShouldQueue(Listener.for('crash.job')) {
  tries = 5
  queue(payload: { queue: string }) {
    return payload.queue
  }
  async handle(payload: { n: number }) {
    await new Promise((resolve) => setTimeout(resolve, 40))
    appendFileSync(process.env.CRASH_LOG ?? 'crash.log', payload.n + '\\n')
  }
}
`,
)

/** What the worker processes wrote, shown when a case fails. */
const transcript: string[] = []

function worker(env: Record<string, string>, queue: string): ChildProcess {
  const child = spawn(process.execPath, ['bin/artisan', 'queue:work', `--queue=${queue}`, '--concurrency=3', '--sleep=0.05', '--json'], {
    cwd: copy.root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.stdout?.on('data', (chunk: Buffer) => transcript.push(chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => transcript.push(chunk.toString()))
  return child
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

function logged(path: string): number[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map(Number) : []
}

describe.each(cases.map((c) => [c.name, c] as const))('a worker killed mid-job: %s', (_name, crash) => {
  it('loses no job: a second worker completes them all', async () => {
    const queue = `crash-${run}-${crash.name.replace(/\W+/g, '-')}`
    const log = join(copy.root, `${queue}.log`)
    const database = crash.server === undefined ? null : await freshDatabase(crash.server)
    onTestFinished(() => database?.drop())
    const env = {
      ...crash.env,
      ...(database !== null && { DB_DATABASE: (database.connection as { database: string }).database }),
      LOG_LEVEL: 'silent',
      CRASH_LOG: log,
      // Re-deliver a dead worker's jobs quickly (database: retry_after; bullmq: stall checks).
      QUEUE_RETRY_AFTER: '2',
      QUEUE_STALLED_INTERVAL: '1',
      QUEUE_LOCK_DURATION: '2',
    }
    transcript.length = 0
    const migrate = spawn(process.execPath, ['bin/artisan', 'migrate'], { cwd: copy.root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    migrate.stderr?.on('data', (chunk: Buffer) => transcript.push(chunk.toString()))
    expect(await exited(migrate), transcript.join('')).toBe(0)

    const app = createApplication({ basePath: copy.root, env, envFile: false })
    await app.boot()
    try {
      for (let n = 1; n <= JOBS; n++) await app.make('events').dispatch('crash.job', { n, queue })
    } finally {
      await app.shutdown()
    }

    const first = worker(env, queue)
    await expect.poll(() => logged(log).length, { timeout: 30_000, interval: 20, message: transcript.join('') }).toBeGreaterThanOrEqual(JOBS / 4)
    first.kill('SIGKILL')
    await exited(first)
    const beforeCrash = new Set(logged(log))
    expect(beforeCrash.size).toBeLessThan(JOBS)

    const second = worker(env, queue)
    await expect.poll(() => new Set(logged(log)).size, { timeout: 60_000, interval: 50, message: transcript.join('') }).toBe(JOBS)
    second.kill('SIGTERM')
    expect(await exited(second)).toBe(0)

    const all = logged(log)
    const duplicates = all.length - new Set(all).size
    expect([...new Set(all)].sort((a, b) => a - b)).toEqual(Array.from({ length: JOBS }, (_, i) => i + 1))
    // At-least-once: the jobs in hand when the first worker died may run twice, no more.
    expect(duplicates).toBeLessThanOrEqual(3)
    console.info(`${crash.name}: ${JOBS} jobs, ${beforeCrash.size} done before the kill, ${duplicates} ran twice`)
  }, 120_000)
})
