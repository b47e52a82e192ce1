/**
 * `artisan serve` (npm start) as a user runs it, in a copy of the project: it migrates the
 * embedded SQLite database, serves /health and the socket.io server, runs queued jobs in the
 * same process, and stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
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

  it('SIGTERM stops taking jobs, finishes the one in hand, and loses no queued job', async () => {
    // A slow queued listener, so that the stop lands while jobs are waiting.
    writeFileSync(
      join(copy.root, 'app/listeners/slow-tally.ts'),
      `import { appendFileSync } from 'node:fs'
import { Listener, ShouldQueue } from 'herald'
import { OrderPlaced } from '../events/order-placed.ts'

export default class SlowTally extends ShouldQueue(Listener.for(OrderPlaced)) {
  async handle(event: OrderPlaced) {
    appendFileSync('tally.log', 'start ' + event.orderId + '\\n')
    await new Promise((resolve) => setTimeout(resolve, 150))
    appendFileSync('tally.log', 'end ' + event.orderId + '\\n')
  }
}
`,
    )
    const running = serve()
    await expect.poll(running.output, { timeout: 30_000 }).toMatch(/Herald is serving http:\/\/127\.0\.0\.1:(\d+) with a worker/)
    const port = /127\.0\.0\.1:(\d+)/.exec(running.output())![1]
    const orders = 12
    for (let n = 0; n < orders; n++) {
      const response = await fetch(`http://127.0.0.1:${port}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `buyer${n}@example.test`, sku: 'BOOK-1', quantity: 1 }),
      })
      expect(response.status).toBe(201)
    }
    const tally = () => (existsSync(join(copy.root, 'tally.log')) ? readFileSync(join(copy.root, 'tally.log'), 'utf8') : '')
    await expect.poll(tally, { timeout: 20_000, interval: 20 }).toContain('start')
    running.child.kill('SIGTERM')
    expect(await running.exited).toBe(0)
    expect(running.output()).toContain('Stopped.')
    // Every job it started, it finished.
    const lines = tally().trim().split('\n')
    expect(lines.filter((line) => line.startsWith('start')).length).toBe(lines.filter((line) => line.startsWith('end')).length)

    const app = createApplication({ basePath: copy.root, env: { LOG_LEVEL: 'silent', BROADCAST_CONNECTION: 'null' }, envFile: false })
    await app.boot()
    try {
      const db = await app.make('db').connection()
      const left = (await db('jobs').select('payload', 'reserved_at')) as { payload: string; reserved_at: number | null }[]
      // Some jobs were still waiting: the stop came mid-way; none was left reserved.
      expect(left.length).toBeGreaterThan(0)
      expect(left.filter((job) => job.reserved_at !== null)).toEqual([])
      expect(await db('failed_jobs').count({ n: '*' })).toEqual([{ n: 0 }])
    } finally {
      await app.shutdown()
    }

    // A worker started later runs every job that was waiting: nothing was lost.
    const worker = spawn(process.execPath, ['bin/artisan', 'queue:work', '--stop-when-empty'], { cwd: copy.root, env: { ...process.env, LOG_LEVEL: 'silent' }, stdio: 'ignore' })
    children.add(worker)
    expect(await new Promise((resolve) => worker.once('exit', resolve))).toBe(0)
    const after = createApplication({ basePath: copy.root, env: { LOG_LEVEL: 'silent', BROADCAST_CONNECTION: 'null' }, envFile: false })
    await after.boot()
    try {
      const db = await after.make('db').connection()
      const placed = (await db('orders').where('email', 'like', 'buyer%').select('id')) as { id: number }[]
      expect(placed).toHaveLength(orders)
      expect(await db('jobs').count({ n: '*' })).toEqual([{ n: 0 }])
      expect(await db('outbox').whereIn('order_id', placed.map((order) => order.id)).count({ n: '*' })).toEqual([{ n: orders }])
      expect(await db('orders').whereIn('id', placed.map((order) => order.id)).whereNull('warehouse_notified_at').count({ n: '*' })).toEqual([{ n: 0 }])
      const ends = tally().trim().split('\n').filter((line) => line.startsWith('end'))
      expect(new Set(ends).size).toBe(orders)
    } finally {
      await after.shutdown()
    }
  })
})
