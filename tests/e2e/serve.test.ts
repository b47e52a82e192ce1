/**
 * `artisan serve` (npm start) as a user runs it, in a copy of the project: it migrates the
 * embedded SQLite database, serves /health and the socket.io server, runs queued jobs in the
 * same process, and stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createApplication } from 'herald'
import { copyProject } from '../support/project-copy.ts'

const copy = copyProject()
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  copy.remove()
})

function serve(args: string[] = []) {
  const child = spawn(process.execPath, ['bin/artisan', 'serve', '--port', '0', ...args], {
    cwd: copy.root,
    env: { ...process.env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, exited, output: () => output }
}

describe('artisan serve', () => {
  it('migrates, serves /health, runs queued jobs in process, and exits 0 on SIGTERM', async () => {
    writeFileSync(
      join(copy.root, 'app/listeners/note-served.ts'),
      `import { appendFileSync } from 'node:fs'
import { Listener, ShouldQueue } from 'herald'

export default class NoteServed extends ShouldQueue(Listener.for('served.ping')) {
  handle(payload: { n: number }) {
    appendFileSync('served.log', payload.n + '\\n')
  }
}
`,
    )
    const first = serve()
    await expect.poll(first.output, { timeout: 30_000 }).toMatch(/Herald is serving http:\/\/127\.0\.0\.1:(\d+) with a worker on database:default/)
    expect(first.output()).toContain('Migrated: 2026_11_23_000001_create_jobs_table')
    const port = /127\.0\.0\.1:(\d+)/.exec(first.output())![1]
    const health = await fetch(`http://127.0.0.1:${port}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'up', checks: { database: 'up', queue: 'up' } })

    // A job queued by another process reaches the server's worker.
    const app = createApplication({ basePath: copy.root, env: { LOG_LEVEL: 'silent' }, envFile: false })
    await app.boot()
    await app.make('events').dispatch('served.ping', { n: 42 })
    await app.shutdown()
    await expect.poll(() => readFileSync(join(copy.root, 'served.log'), 'utf8'), { timeout: 20_000 }).toBe('42\n')

    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(first.output()).toContain('Stopped.')

    // Migrated already: the second start says nothing about migrations; --no-worker runs none.
    const second = serve(['--no-worker'])
    await expect.poll(second.output, { timeout: 30_000 }).toMatch(/Herald is serving http:\/\/127\.0\.0\.1:\d+\. Press Ctrl\+C/)
    expect(second.output()).not.toContain('Migrated')
    second.child.kill('SIGINT')
    expect(await second.exited).toBe(0)
  })
})
