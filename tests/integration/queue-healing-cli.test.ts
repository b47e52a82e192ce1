/**
 * Healing, seen from outside: real `artisan queue:work` processes (dist/, in a project copy).
 * - With the default lease, a SIGKILLed worker's job runs again in another worker within 15 s.
 * - With its database unreachable, a worker gives up after --max-disconnected with one line on
 *   stderr naming the database and its address (no stack, no password), and exits 1.
 * - SIGTERM stops a worker waiting for its database, at once.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createApplication } from 'herald'
import { copyProject } from '../support/project-copy.ts'

const run = `${process.pid}-${Date.now()}`
const copy = copyProject()
/** Every process started here, killed at the end whatever happened, so none outlives the suite. */
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  copy.remove()
})

// A slow queued listener: it logs its start (with the time), then waits for a marker file (at
// most 30 s), then logs its end.
writeFileSync(
  join(copy.root, 'app/listeners/healing-slow-job.ts'),
  `import { appendFileSync, existsSync } from 'node:fs'
import { Listener, ShouldQueue } from 'herald'

export default class HealingSlowJob extends ShouldQueue(Listener.for('healing.slow')) {
  tries = 3
  timeout = 120
  queue(payload: { queue: string }) {
    return payload.queue
  }
  async handle(payload: { log: string; marker: string }) {
    appendFileSync(payload.log, JSON.stringify({ event: 'start', at: Date.now(), pid: process.pid }) + '\\n')
    const until = Date.now() + 30_000
    while (!existsSync(payload.marker) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
    appendFileSync(payload.log, JSON.stringify({ event: 'end', at: Date.now(), pid: process.pid }) + '\\n')
  }
}
`,
)

/** The environment of a child: this one's, without the lease settings (the defaults are tested). */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', ...env }
  delete base.QUEUE_LEASE
  delete base.QUEUE_RETRY_AFTER
  return base
}

interface Child {
  readonly process: ChildProcess
  readonly stdout: string[]
  readonly stderr: string[]
  /** Resolves to the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>
}

function artisan(args: readonly string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  const stdout: string[] = []
  const stderr: string[] = []
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { process: child, stdout, stderr, exited }
}

/** The exit code, or 'late' if the child is still running after `ms`. */
async function exitWithin(child: Child, ms: number): Promise<number | null | 'late'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)))
  try {
    return await Promise.race([child.exited, late])
  } finally {
    clearTimeout(timer)
  }
}

function transcript(...children: Child[]): string {
  return children.map((child) => `stdout:\n${child.stdout.join('')}\nstderr:\n${child.stderr.join('')}`).join('\n---\n')
}

interface Entry {
  readonly event: 'start' | 'end'
  readonly at: number
  readonly pid: number
}

function entries(path: string): Entry[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Entry)
}

function starts(path: string): Entry[] {
  return entries(path).filter((entry) => entry.event === 'start')
}

describe('a SIGKILLed queue:work, with the default lease (SQLite)', () => {
  it('has its job run again by another worker within 15 s of the kill', async () => {
    const queue = `healing-cli-${run}`
    const log = join(copy.root, `${queue}.log`)
    const marker = join(copy.root, `${queue}.marker`)
    const env = { DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/healing-cli.sqlite', QUEUE_CONNECTION: 'database' }
    const migrate = artisan(['migrate'], env)
    expect(await migrate.exited, transcript(migrate)).toBe(0)

    const app = createApplication({ basePath: copy.root, env: { ...env, LOG_LEVEL: 'silent' }, envFile: false })
    await app.boot()
    try {
      await app.make('events').dispatch('healing.slow', { queue, log, marker })
    } finally {
      await app.shutdown()
    }

    const worker = ['queue:work', `--queue=${queue}`, '--sleep=0.5', '--json']
    const first = artisan(worker, env)
    await expect.poll(() => starts(log).length, { timeout: 40_000, interval: 50, message: transcript(first) }).toBe(1)
    first.process.kill('SIGKILL')
    const killedAt = Date.now()
    expect(await first.exited).toBeNull()

    // The second worker's run ends at once; the first's never did.
    writeFileSync(marker, '')
    const second = artisan(worker, env)
    await expect.poll(() => starts(log).length, { timeout: 40_000, interval: 50, message: transcript(first, second) }).toBe(2)
    const [before, again] = starts(log)
    expect(again!.pid).toBe(second.process.pid)
    expect(before!.pid).toBe(first.process.pid)
    const redelivery = again!.at - killedAt
    expect(redelivery, transcript(second)).toBeLessThan(15_000)
    await expect.poll(() => entries(log).filter((entry) => entry.event === 'end').length, { timeout: 40_000, interval: 50 }).toBe(1)

    second.process.kill('SIGTERM')
    expect(await second.exited, transcript(second)).toBe(0)
    console.info(`default lease: the killed worker's job started again ${redelivery} ms after the kill`)
  }, 120_000)
})

describe('queue:work with PostgreSQL at a closed port', () => {
  const password = `pw-${run}-secret`
  const env = { DB_CONNECTION: 'pgsql', DB_HOST: '127.0.0.1', DB_PORT: '1', DB_PASSWORD: password, QUEUE_CONNECTION: 'database' }

  it('gives up after --max-disconnected: exit 1, one line naming the database and its address, no stack, no password', async () => {
    const started = Date.now()
    const worker = artisan(['queue:work', '--max-disconnected=1', '--sleep=0.5', '--json', `--queue=healing-cli-${run}`], env)
    const code = await exitWithin(worker, 20_000)
    expect(code, transcript(worker)).toBe(1)
    expect(Date.now() - started).toBeLessThan(20_000)
    const stderr = worker.stderr.join('')
    const lines = stderr.split('\n').filter((line) => line.trim() !== '')
    expect(lines, stderr).toHaveLength(1)
    expect(lines[0]).toContain('Database "pgsql" at 127.0.0.1:1 is unreachable')
    expect(stderr.split('\n').filter((line) => line.startsWith('    at '))).toEqual([])
    expect(stderr).not.toContain(password)
    expect(worker.stdout.join('')).not.toContain(password)
  }, 60_000)

  it('stops on SIGTERM at once while it waits to reconnect (--max-disconnected=0: it never gives up)', async () => {
    const worker = artisan(['queue:work', '--max-disconnected=0', '--sleep=0.5', '--json', `--queue=healing-cli-${run}`], env)
    // Its warning says it is reconnecting: the outage has begun.
    await expect.poll(() => worker.stdout.join(''), { timeout: 40_000, interval: 50, message: transcript(worker) }).toContain('reconnecting')
    expect(worker.process.exitCode).toBeNull()
    const signalled = Date.now()
    worker.process.kill('SIGTERM')
    const code = await exitWithin(worker, 20_000)
    const took = Date.now() - signalled
    expect(code, transcript(worker)).toBe(0)
    expect(took, transcript(worker)).toBeLessThan(8_000)
    expect(worker.stderr.join('')).not.toContain(password)
  }, 60_000)
})
