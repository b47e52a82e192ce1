/**
 * /health opened a new Redis connection for every request (issue 11, problem 5): a request
 * flood was a connection flood. Now it keeps one per Redis URL, named herald-health-<pid>, and
 * concurrent requests share the check in progress. Against a Redis of this test's own (so the
 * connection counts are exact and stopping it disturbs no one): 200 concurrent requests open
 * no connection after the first, with Redis up, down, and back.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { bootApplication, type Application } from 'herald'
import { healthClientName } from '../../src/http/health.ts'
import { createApplicationHttpKernel } from '../../src/http/http-kernel.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'herald-health-redis-'))
let port: number
let server: ChildProcess | null = null
let observer: Redis
let database: FreshDatabase
let app: Application
let base: string

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port: free } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return free
}

async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
  const ping = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null })
  ping.on('error', () => {})
  try {
    await vi.waitFor(async () => expect(await ping.ping()).toBe('PONG'), { timeout: 30_000, interval: 100 })
  } finally {
    ping.disconnect()
  }
}

async function stopRedis(): Promise<void> {
  const running = server
  server = null
  if (running === null || running.exitCode !== null) return
  const exited = new Promise((resolve) => running.once('exit', resolve))
  running.kill('SIGKILL')
  await exited
}

/** The health check's connections to our Redis, from CLIENT LIST. */
async function healthConnections(): Promise<number> {
  const list = (await observer.call('CLIENT', 'LIST')) as string
  return list.split('\n').filter((line) => line.includes(` name=${healthClientName()} `)).length
}

async function connectionsReceived(): Promise<number> {
  return Number(/total_connections_received:(\d+)/.exec(await observer.info('stats'))![1])
}

async function burst(count: number): Promise<Array<{ status: number; body: unknown }>> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`${base}/health`)
      return { status: response.status, body: (await response.json()) as unknown }
    }),
  )
}

beforeAll(async () => {
  port = await freePort()
  await startRedis()
  observer = new Redis(port, '127.0.0.1', { retryStrategy: () => 100, maxRetriesPerRequest: null })
  observer.on('error', () => {})
  database = await freshDatabase('sqlite')
  app = await bootApplication({
    basePath: root,
    envFile: false,
    env: {
      LOG_LEVEL: 'silent',
      DB_DATABASE: (database.connection as { filename: string }).filename,
      QUEUE_CONNECTION: 'bullmq',
      REDIS_URL: `redis://127.0.0.1:${port}`,
      QUEUE_PREFIX: `herald-health-${Math.random().toString(36).slice(2)}`,
      BROADCAST_CONNECTION: 'null',
    },
  })
  const kernel = await createApplicationHttpKernel(app)
  base = `http://127.0.0.1:${(await kernel.listen(0, '127.0.0.1')).port}`
})
afterAll(async () => {
  await app?.shutdown()
  observer?.disconnect()
  await stopRedis()
  await database?.drop()
  rmSync(dir, { recursive: true, force: true })
})

describe('GET /health under 200 concurrent requests', () => {
  it('opens one Redis connection for the health check, kept for every later request', async () => {
    const before = await connectionsReceived()
    const first = await burst(200)
    expect(first.every((answer) => answer.status === 200)).toBe(true)
    expect(first[0]!.body).toEqual({ status: 'up', checks: { database: 'up', queue: 'up', redis: 'up' } })
    // The health check's connection and the queue driver's own: nothing per request.
    expect((await connectionsReceived()) - before).toBeLessThanOrEqual(2)
    expect(await healthConnections()).toBe(1)

    const again = await connectionsReceived()
    expect((await burst(200)).every((answer) => answer.status === 200)).toBe(true)
    expect((await connectionsReceived()) - again).toBe(0)
    expect(await healthConnections()).toBe(1)
  })

  it('answers 503 while Redis is down, and 200 again on the same one connection once it is back', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      await stopRedis()
      const down = await burst(200)
      expect(down.every((answer) => answer.status === 503)).toBe(true)
      expect(down[0]!.body).toEqual({ status: 'down', checks: { database: 'up', queue: 'down', redis: 'down' } })

      await startRedis()
      await expect.poll(async () => (await fetch(`${base}/health`)).status, { timeout: 30_000, interval: 200 }).toBe(200)
      const back = await burst(200)
      expect(back.every((answer) => answer.status === 200)).toBe(true)
      await expect.poll(healthConnections, { timeout: 10_000, interval: 100 }).toBe(1)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
