/**
 * Broadcasting through the application as `artisan serve` wires it: the app's dispatcher, its
 * broadcast manager attached to the socket.io server, its channel registry, and the real
 * Laravel Echo client over loopback.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Echo from 'laravel-echo'
import { io, type Socket } from 'socket.io-client'
import { afterEach, describe, expect, it } from 'vitest'
import { Channel, Dispatchable, PrivateChannel, ShouldBroadcast, ShouldBroadcastNow, bootApplication, broadcast, withSocketId, type Application } from 'herald'
import { createApplicationHttpKernel, type HttpKernel } from '../../src/http/http-kernel.ts'

class OrderShipped extends ShouldBroadcastNow(Dispatchable) {
  constructor(
    readonly orderId: number,
    readonly userId: number,
  ) {
    super()
  }
  broadcastOn() {
    return [new Channel('orders'), new PrivateChannel(`orders.${this.userId}`)]
  }
}

class OrderQueued extends ShouldBroadcast(Dispatchable) {
  constructor(readonly orderId: number) {
    super()
  }
  broadcastOn() {
    return new Channel('orders')
  }
  broadcastAs() {
    return 'order.queued'
  }
}

const open: Array<{ echo: Echo<'socket.io'>; kernel: HttpKernel; app: Application }> = []
afterEach(async () => {
  for (const { echo, app } of open.splice(0)) {
    echo.disconnect()
    await app.shutdown()
  }
})

async function serve(): Promise<{ app: Application; port: number; connect: (user: string) => Echo<'socket.io'> }> {
  const app = await bootApplication({
    // An empty project: not the demo's app/channels.ts, routes or listeners.
    basePath: mkdtempSync(join(tmpdir(), 'herald-e2e-broadcast-')),
    loadConfig: false,
    envFile: false,
    env: { LOG_LEVEL: 'silent', BROADCAST_CONNECTION: 'socketio', QUEUE_CONNECTION: 'sync', APP_KEY: 'test-key' },
  })
  app.make('broadcast.channels').channel('orders.{userId}', (user, userId) => String(user.id) === userId)
  const kernel = await createApplicationHttpKernel(app)
  const { port } = await kernel.listen(0, '127.0.0.1')
  const connect = (user: string) => {
    const echo = new Echo<'socket.io'>({
      broadcaster: 'socket.io',
      client: io,
      host: `http://127.0.0.1:${port}`,
      auth: { headers: { Authorization: `Bearer ${user}` } },
      transports: ['websocket'],
      namespace: false,
    })
    open.push({ echo, kernel, app })
    return echo
  }
  return { app, port, connect }
}

function connected(echo: Echo<'socket.io'>): Promise<void> {
  const socket = echo.connector.socket as unknown as Socket
  return socket.connected ? Promise.resolve() : new Promise((resolve) => socket.once('connect', () => resolve()))
}

describe('broadcasting through the application', () => {
  it('a ShouldBroadcastNow event reaches public and authorized private channels', async () => {
    const { app, connect } = await serve()
    const owner = connect('7')
    const stranger = connect('8')
    const got: string[] = []
    owner.channel('orders').listen('OrderShipped', (e: { orderId: number }) => got.push(`owner public ${e.orderId}`))
    owner.private('orders.7').listen('OrderShipped', (e: { orderId: number }) => got.push(`owner private ${e.orderId}`))
    stranger.private('orders.7').listen('OrderShipped', () => got.push('stranger private'))
    await Promise.all([connected(owner), connected(stranger)])
    // Private subscriptions are authorized asynchronously: dispatch until both rooms deliver.
    let n = 0
    await expect
      .poll(async () => {
        await app.make('events').dispatch(new OrderShipped(++n, 7))
        return [...new Set(got.map((line) => line.replace(/ \d+$/, '')))].sort()
      }, { timeout: 10_000, interval: 100 })
      .toEqual(['owner private', 'owner public'])
    expect(got).not.toContain('stranger private')
  })

  it('a ShouldBroadcast event goes through the queue; toOthers leaves the sender out', async () => {
    const { app, connect } = await serve()
    const sender = connect('1')
    const other = connect('2')
    const got: string[] = []
    sender.channel('orders').listen('.order.queued', (e: { orderId: number }) => got.push(`sender ${e.orderId}`))
    other.channel('orders').listen('.order.queued', (e: { orderId: number }) => got.push(`other ${e.orderId}`))
    await Promise.all([connected(sender), connected(other)])
    await expect
      .poll(async () => {
        await app.make('events').dispatch(new OrderQueued(5))
        return [...new Set(got)].sort()
      }, { timeout: 10_000, interval: 100 })
      .toEqual(['other 5', 'sender 5'])
    // Let the last of those arrive before counting again: a marker on both sockets.
    await app.make('events').dispatch(new OrderQueued(0))
    await expect.poll(() => got.filter((line) => line.endsWith(' 0')).length, { timeout: 10_000 }).toBe(2)
    got.length = 0
    await withSocketId(sender.socketId(), () => broadcast(new OrderQueued(6)).toOthers())
    await app.make('events').dispatch(new OrderQueued(7))
    await expect.poll(() => got.filter((line) => line.startsWith('other')), { timeout: 10_000 }).toEqual(['other 6', 'other 7'])
    expect(got.filter((line) => line.startsWith('sender'))).toEqual(['sender 7'])
  })
})

describe('the user resolver the application sets', () => {
  it('Broadcast.resolveUsersWith decides who subscribes, for the server serve starts', async () => {
    const app = await bootApplication({
      basePath: mkdtempSync(join(tmpdir(), 'herald-e2e-broadcast-')),
      loadConfig: false,
      envFile: false,
      env: { LOG_LEVEL: 'silent', BROADCAST_CONNECTION: 'socketio', QUEUE_CONNECTION: 'sync', APP_KEY: 'test-key' },
    })
    const channels = app.make('broadcast.channels')
    // Users come from a session cookie here, not from the default bearer-token placeholder.
    channels.resolveUsersWith((request) => (request.cookies.session === 'ada' ? { id: 7, name: 'Ada' } : null))
    channels.channel('orders.{userId}', (user, userId) => String(user.id) === userId)
    const kernel = await createApplicationHttpKernel(app)
    const { port } = await kernel.listen(0, '127.0.0.1')
    const auth = (cookie: string) =>
      fetch(`http://127.0.0.1:${port}/broadcasting/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ channel_name: 'private-orders.7' }),
      })
    try {
      expect((await auth('session=ada')).status).toBe(200)
      expect((await auth('session=bob')).status).toBe(403)
    } finally {
      await app.shutdown()
    }
  })
})
