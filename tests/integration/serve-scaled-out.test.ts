/**
 * `artisan serve` in the scaled-out setup, by .env alone: PostgreSQL, the bullmq queue and
 * redis broadcasting. Two servers (one with the in-process worker, one without) share the
 * database, the queue and the socket.io rooms: an order placed on the first reaches a Laravel
 * Echo client of the second, and so do the dashboard's job reports. Needs Redis and
 * PostgreSQL (fails when they are down).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import Echo from 'laravel-echo'
import { io } from 'socket.io-client'
import knex from 'knex'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { copyProject } from '../support/project-copy.ts'

const copy = copyProject()
const children: ChildProcess[] = []
let database: FreshDatabase
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  database = await freshDatabase('pgsql')
  const id = randomBytes(4).toString('hex')
  env = {
    ...process.env,
    LOG_LEVEL: 'warn',
    DB_CONNECTION: 'pgsql',
    DB_HOST: '127.0.0.1',
    DB_PORT: '5432',
    DB_USERNAME: 'postgres',
    DB_DATABASE: (database.connection as { database: string }).database,
    QUEUE_CONNECTION: 'bullmq',
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `herald-scaled-${id}`,
    BROADCAST_CONNECTION: 'redis',
    BROADCAST_PREFIX: `herald-scaled-broadcast-${id}`,
    APP_KEY: `key-${id}`,
  }
})

afterAll(async () => {
  await Promise.all(
    children.map((child) =>
      child.exitCode === null && child.signalCode === null ? new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGKILL'))) : null,
    ),
  )
  await database?.drop()
  copy.remove()
})

async function serve(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['bin/artisan', 'serve', '--port', '0', ...args], { cwd: copy.root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await vi.waitFor(
    () => {
      const found = /Herald is serving (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
      if (found === undefined) throw new Error(`artisan serve ${args.join(' ')} has not started:\n${output}`)
      return found
    },
    { timeout: 30_000, interval: 100 },
  )
  return { child, url, output: () => output, exited }
}

describe('artisan serve, scaled out (PostgreSQL, bullmq, redis broadcasting)', () => {
  it('two servers share orders, jobs and broadcasts', { timeout: 60_000 }, async () => {
    const first = await serve([])
    expect(first.output()).toContain(`with a worker on bullmq:default`)
    const second = await serve(['--no-worker'])

    const health = await fetch(`${second.url}/health`)
    expect(await health.json()).toEqual({ status: 'up', checks: { database: 'up', queue: 'up', redis: 'up' } })

    // A browser on the second server, with the token a page of the first carries: the
    // servers share APP_KEY, so either one's page signs the demo user in on the other.
    const page = await (await fetch(`${first.url}/`)).text()
    const token = /<meta name="broadcast-token" content="([^"]+)">/.exec(page)?.[1]
    expect(token).toBeDefined()
    const echo = new Echo<'socket.io'>({
      broadcaster: 'socket.io',
      client: io,
      host: second.url,
      transports: ['websocket'],
      namespace: false,
      auth: { headers: { Authorization: `Bearer ${token}` } },
    })
    const orders: { orderId: number }[] = []
    const jobs: { name: string; status: string }[] = []
    const mine: { orderId: number }[] = []
    try {
      echo.channel('orders').listen('OrderPlaced', (order: { orderId: number }) => orders.push(order))
      echo.private('orders.1').listen('OrderPlaced', (order: { orderId: number }) => mine.push(order))
      echo.private('dashboard').listen('.job.processed', (job: { name: string; status: string }) => jobs.push(job))
      const socket = echo.connector.socket
      await vi.waitFor(() => expect(socket.connected).toBe(true), { timeout: 10_000 })

      // Orders go in through the first server. Subscriptions are authorized asynchronously:
      // place orders until the second server's client hears one on both channels.
      const placed: number[] = []
      const place = async () => {
        const response = await fetch(`${first.url}/api/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'ada@example.test', sku: 'TEE-3', quantity: 1 }),
        })
        expect(response.status).toBe(201)
        placed.push(((await response.json()) as { order: { id: number } }).order.id)
      }
      await expect
        .poll(
          async () => {
            if (orders.length === 0 || mine.length === 0) await place()
            return orders.length > 0 && mine.length > 0
          },
          { timeout: 20_000, interval: 500 },
        )
        .toBe(true)
      // Once subscribed, every order arrives, on both channels.
      await place()
      const last = placed.at(-1)!
      await vi.waitFor(() => expect(orders.map((o) => o.orderId)).toContain(last), { timeout: 15_000 })
      await vi.waitFor(() => expect(mine.map((o) => o.orderId)).toContain(last), { timeout: 15_000 })
      // The first server's worker ran the confirmations; its reports reached this client.
      await vi.waitFor(() => expect(jobs).toContainEqual(expect.objectContaining({ name: 'SendOrderConfirmation', status: 'DONE' })), { timeout: 15_000 })

      // The confirmations are in the shared PostgreSQL database, one per order.
      const db = knex({ client: 'pg', connection: { ...(database.connection as object), user: 'postgres' } })
      try {
        await vi.waitFor(async () => expect(await db('outbox').whereIn('order_id', placed).count({ n: '*' })).toEqual([{ n: String(placed.length) }]), {
          timeout: 15_000,
        })
      } finally {
        await db.destroy()
      }
    } finally {
      echo.disconnect()
    }

    first.child.kill('SIGTERM')
    second.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(await second.exited).toBe(0)
  })
})
