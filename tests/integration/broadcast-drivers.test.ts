/**
 * The socketio and redis broadcast drivers across processes, over loopback: real socket.io
 * servers (Herald's EchoServer in the HTTP kernel, on ephemeral ports), real socket.io-client
 * connections subscribed the way Laravel Echo subscribes, a real Redis (REDIS_URL, default
 * 127.0.0.1:6379), and a worker-like child process (`node --import tsx`) that dispatches a
 * ShouldBroadcast event with no socket.io server of its own.
 *
 * No sleeps: every wait is a condition. To show a client did NOT get something, it is sent
 * something it must get afterwards, and once that arrived nothing else may have come before.
 */
import { spawn } from 'node:child_process'
import Echo from 'laravel-echo'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { Redis } from 'ioredis'
import { io, type Socket as ClientSocket } from 'socket.io-client'
import { afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { Channel, ChannelRegistry, Dispatchable, ShouldBroadcastNow, createApplication, type Application } from 'herald'
import { encodeBroadcastRequest, SIGNATURE_HEADER, BROADCAST_CONTENT_TYPE } from '../../src/broadcasting/broadcast-signature.ts'
import { createInternalBroadcastRouter } from '../../src/broadcasting/internal-endpoint.ts'
import { createHttpKernel, type HttpKernel } from '../../src/http/http-kernel.ts'
import { projectRoot } from '../support/project-copy.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const WAIT = { timeout: 15_000, interval: 10 }
const APP_KEY = randomBytes(32).toString('base64')

class OrderShipped extends ShouldBroadcastNow(Dispatchable) {
  constructor(
    readonly orderId: number,
    private readonly channel: string,
  ) {
    super()
  }
  broadcastOn() {
    return new Channel(this.channel)
  }
  broadcastWith() {
    return { orderId: this.orderId }
  }
}

interface Received {
  readonly event: string
  readonly channel: unknown
  readonly data: unknown
}

interface Client {
  readonly socket: ClientSocket
  readonly log: Received[]
}

interface WebServer {
  readonly app: Application
  readonly kernel: HttpKernel
  readonly port: number
  readonly url: string
}

const apps: Application[] = []
const clients: Client[] = []
const servers: Server[] = []
const redisClients: Redis[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.disconnect()
  // Shutting an application down closes its HTTP kernel, then its broadcast connections and adapters.
  await Promise.all(apps.splice(0).map((app) => app.shutdown()))
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  await Promise.all(redisClients.splice(0).map((client) => client.quit().catch(() => client.disconnect())))
})

beforeAll(async () => {
  const probe = new Redis(REDIS_URL, { maxRetriesPerRequest: null, connectTimeout: 2000, lazyConnect: true, retryStrategy: () => null })
  try {
    await probe.connect()
    await probe.ping()
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${String(error)}): start it (redis-server, or bash .ci/run) or set REDIS_URL. This suite is never skipped.`,
    )
  } finally {
    probe.disconnect()
  }
})

/**
 * A web server process's part: an application booted with `env`, its HTTP kernel with the
 * socket.io server (with the connection's adapter: the Redis one for redis), the internal
 * broadcast endpoint, and the server attached to the broadcast manager.
 */
async function startWebServer(env: Record<string, string>): Promise<WebServer> {
  const app = createApplication({
    loadConfig: false,
    envFile: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent', QUEUE_CONNECTION: 'sync', ...env },
  })
  apps.push(app)
  await app.boot()
  const manager = app.make('broadcast')
  const adapter = await manager.serverAdapter()
  const kernel = createHttpKernel(app, { channels: app.make('broadcast.channels'), ...(adapter ? { adapter } : {}) })
  kernel.express.use(createInternalBroadcastRouter(kernel.echo, manager.key))
  manager.attachServer(kernel.echo)
  const { port } = await kernel.listen(0, '127.0.0.1')
  return { app, kernel, port, url: `http://127.0.0.1:${port}` }
}

/** A browser tab: a socket.io client, connected, logging every event it receives. */
async function connect(server: WebServer): Promise<Client> {
  const socket = io(server.url, { transports: ['websocket'], reconnection: false })
  const log: Received[] = []
  socket.onAny((event: string, channel: unknown, data: unknown) => void log.push({ event, channel, data }))
  const client = { socket, log }
  clients.push(client)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  return client
}

/** Subscribes as Echo does (`Echo.channel(name)`), and waits until the server has the socket in the room. */
async function subscribe(server: WebServer, client: Client, channel: string): Promise<void> {
  client.socket.emit('subscribe', { channel, auth: { headers: {} } })
  await expect.poll(() => server.kernel.echo.io.sockets.adapter.rooms.get(channel)?.has(client.socket.id!) ?? false, WAIT).toBe(true)
}

function received(client: Client, channel: string): Array<{ event: string; data: unknown }> {
  return client.log.filter((entry) => entry.channel === channel).map(({ event, data }) => ({ event, data }))
}

interface WorkerRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the worker-like child (tests/support/broadcast-worker-process.ts) to the end. */
function runWorker(env: Record<string, string>, ...args: string[]): Promise<WorkerRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/broadcast-worker-process.ts', ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('the socketio driver', () => {
  it('reaches a Laravel Echo client from a worker process', async () => {
    const server = await startWebServer({ BROADCAST_CONNECTION: 'socketio', APP_KEY })
    const echo = new Echo<'socket.io'>({ broadcaster: 'socket.io', client: io, host: server.url, transports: ['websocket'], namespace: false })
    onTestFinished(() => echo.disconnect())
    const got: unknown[] = []
    echo.channel('parcels').listen('OrderShipped', (data: unknown) => void got.push(data))
    const env = { BROADCAST_CONNECTION: 'socketio', APP_KEY, BROADCAST_SERVER_URL: server.url }
    await expect
      .poll(
        async () => {
          expect(await runWorker(env, 'parcels', '5')).toMatchObject({ code: 0, stdout: 'sent\n' })
          return got.length > 0
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(true)
    expect(got).toContainEqual({ orderId: 5 })
  })

  it('delivers from a worker process through the signed internal endpoint, honouring toOthers', async () => {
    const server = await startWebServer({ BROADCAST_CONNECTION: 'socketio', APP_KEY })
    const [first, second] = [await connect(server), await connect(server)]
    await subscribe(server, first, 'orders')
    await subscribe(server, second, 'orders')
    const env = { BROADCAST_CONNECTION: 'socketio', APP_KEY, BROADCAST_SERVER_URL: server.url }

    // The second tab made the request: the worker's job carries its socket id.
    const run = await runWorker(env, 'orders', '41', second.socket.id!)
    expect(run).toMatchObject({ code: 0, stdout: 'sent\n' })
    await expect.poll(() => received(first, 'orders'), WAIT).toEqual([{ event: 'OrderShipped', data: { orderId: 41 } }])

    // In the web server's own process the driver hands the message to its socket.io server.
    await server.app.make('events').dispatch(new OrderShipped(42, 'orders'))
    await expect.poll(() => received(second, 'orders'), WAIT).toEqual([{ event: 'OrderShipped', data: { orderId: 42 } }])
    expect(received(first, 'orders').map((entry) => entry.data)).toEqual([{ orderId: 41 }, { orderId: 42 }])
  })

  it('rejects a worker with another APP_KEY (403) and a forged request, and delivers neither', async () => {
    const server = await startWebServer({ BROADCAST_CONNECTION: 'socketio', APP_KEY })
    const client = await connect(server)
    await subscribe(server, client, 'orders')

    const wrongKey = await runWorker({ BROADCAST_CONNECTION: 'socketio', APP_KEY: 'not-the-key', BROADCAST_SERVER_URL: server.url }, 'orders', '1')
    expect(wrongKey.code).toBe(1)
    expect(wrongKey.stderr).toContain(
      `Broadcasting "OrderShipped" to ${server.url}/_herald/broadcast was refused with 403: Invalid broadcast signature: do this process and the web server share the same APP_KEY?`,
    )

    const { body } = encodeBroadcastRequest({ channels: ['orders'], event: 'Forged', data: {} }, APP_KEY)
    const forged = await fetch(`${server.url}/_herald/broadcast`, {
      method: 'POST',
      headers: { 'content-type': BROADCAST_CONTENT_TYPE, [SIGNATURE_HEADER]: '0'.repeat(64) },
      body,
    })
    expect(forged.status).toBe(403)
    const unsigned = await fetch(`${server.url}/_herald/broadcast`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(unsigned.status).toBe(403)

    // Then a good one: once it arrived, nothing else may have come before it.
    const good = await runWorker({ BROADCAST_CONNECTION: 'socketio', APP_KEY, BROADCAST_SERVER_URL: server.url }, 'orders', '2')
    expect(good).toMatchObject({ code: 0, stdout: 'sent\n' })
    await expect.poll(() => client.log.length, WAIT).toBeGreaterThan(0)
    expect(client.log).toEqual([{ event: 'OrderShipped', channel: 'orders', data: { orderId: 2 } }])
  })

  it('a worker without APP_KEY stops with one line saying what to set', async () => {
    const run = await runWorker({ BROADCAST_CONNECTION: 'socketio', APP_KEY: '', BROADCAST_SERVER_URL: 'http://127.0.0.1:9' }, 'orders', '1')
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^APP_KEY is not set: .*set APP_KEY in \.env.*\n$/)
  })

  it('a web server without APP_KEY refuses every cross-process broadcast with 503', async () => {
    const delivered: unknown[] = []
    const app = express().use(createInternalBroadcastRouter({ deliver: async (message) => void delivered.push(message) }, null))
    const server = createServer(app)
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const { body, signature } = encodeBroadcastRequest({ channels: ['orders'], event: 'E', data: {} }, 'any')
    const response = await fetch(`http://127.0.0.1:${port}/_herald/broadcast`, {
      method: 'POST',
      headers: { 'content-type': BROADCAST_CONTENT_TYPE, [SIGNATURE_HEADER]: signature },
      body,
    })
    expect(response.status).toBe(503)
    expect(await response.text()).toContain('APP_KEY is not set on the web server')
    expect(delivered).toEqual([])
  })
})

describe('the redis driver', () => {
  it('two web servers and a worker process share channels through one prefix', async () => {
    const prefix = `herald-broadcast-test-${randomBytes(4).toString('hex')}`
    const env = { BROADCAST_CONNECTION: 'redis', REDIS_URL, BROADCAST_PREFIX: prefix }
    const one = await startWebServer(env)
    const two = await startWebServer(env)
    // Both servers' adapters listen on this prefix's channels.
    for (const server of [one, two]) {
      const adapter = server.kernel.echo.io.of('/').adapter as unknown as { serverCount(): Promise<number> }
      await expect.poll(() => adapter.serverCount(), WAIT).toBe(2)
    }
    // What the worker publishes, seen on Redis itself: the prefix is the configured one.
    const spy = new Redis(REDIS_URL)
    redisClients.push(spy)
    const published: string[] = []
    spy.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer) => void published.push(channel.toString()))
    await spy.psubscribe(`${prefix}#*`)

    const onOne = await connect(one)
    const onTwo = await connect(two)
    const sender = await connect(two)
    for (const [server, client] of [[one, onOne], [two, onTwo], [two, sender]] as const) await subscribe(server, client, 'orders')

    const run = await runWorker(env, 'orders', '7', sender.socket.id!)
    expect(run).toMatchObject({ code: 0, stdout: 'sent\n' })
    const expected = [{ event: 'OrderShipped', data: { orderId: 7 } }]
    await expect.poll(() => received(onOne, 'orders'), WAIT).toEqual(expected)
    await expect.poll(() => received(onTwo, 'orders'), WAIT).toEqual(expected)
    expect(published).toContain(`${prefix}#/#orders#`)

    // From a web server's own process: its socket.io server delivers, the adapter fans out.
    await one.app.make('events').dispatch(new OrderShipped(8, 'orders'))
    await expect.poll(() => received(sender, 'orders'), WAIT).toEqual([{ event: 'OrderShipped', data: { orderId: 8 } }])
    await expect.poll(() => received(onTwo, 'orders').length, WAIT).toBe(2)
    await expect.poll(() => received(onOne, 'orders').length, WAIT).toBe(2)
    // toOthers kept the worker's broadcast from the sender, on the other server of its two.
    expect(sender.log.map((entry) => entry.data)).toEqual([{ orderId: 8 }])
  })
})

describe('the redis driver across processes', () => {
  it('two web server processes and a worker process share a channel', async () => {
    const prefix = `herald-broadcast-procs-${randomBytes(4).toString('hex')}`
    const env = { BROADCAST_CONNECTION: 'redis', REDIS_URL, BROADCAST_PREFIX: prefix }
    const servers = [0, 1].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/broadcast-server-process.ts'], {
        cwd: projectRoot,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      return { child, exited, output: () => output }
    })
    const ports = await Promise.all(
      servers.map(async (server) => {
        await expect.poll(server.output, { timeout: 30_000 }).toMatch(/port \d+/)
        return Number(/port (\d+)/.exec(server.output())![1])
      }),
    )
    // Browser tabs with the real Laravel Echo client, one on each server.
    const tabs = ports.map((port) => {
      const echo = new Echo<'socket.io'>({
        broadcaster: 'socket.io',
        client: io,
        host: `http://127.0.0.1:${port}`,
        transports: ['websocket'],
        namespace: false,
      })
      onTestFinished(() => echo.disconnect())
      const got: unknown[] = []
      echo.channel('shipments').listen('OrderShipped', (data: unknown) => void got.push(data))
      return { echo, got }
    })
    // The subscribe is handled asynchronously in the server processes: send until both tabs
    // have received the worker's message.
    await expect
      .poll(
        async () => {
          const run = await runWorker(env, 'shipments', '11')
          expect(run).toMatchObject({ code: 0, stdout: 'sent\n' })
          return tabs.map((tab) => tab.got.length > 0)
        },
        { timeout: 30_000, interval: 200 },
      )
      .toEqual([true, true])
    for (const tab of tabs) expect(tab.got).toContainEqual({ orderId: 11 })
    for (const server of servers) server.child.kill('SIGTERM')
    expect(await Promise.all(servers.map((server) => server.exited))).toEqual([0, 0])
  }, 90_000)
})
