/**
 * The socket.io server against the real Laravel Echo client (laravel-echo + socket.io-client)
 * over loopback, and POST /broadcasting/auth with fetch. Cross-server presence uses the real
 * Redis (REDIS_URL, default 127.0.0.1:6379) through @socket.io/redis-adapter.
 *
 * No sleeps: every wait is a condition. To prove a client did NOT get something, the test
 * sends it something it must get afterwards on the same connection and checks, once that
 * arrived, that nothing else came before it.
 */
import { randomBytes } from 'node:crypto'
import { createAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import Echo from 'laravel-echo'
import { io, type Socket as ClientSocket } from 'socket.io-client'
import { afterEach, describe, expect, it } from 'vitest'
import { Application } from 'herald'
import { BROADCAST_CONTENT_TYPE, SIGNATURE_HEADER, encodeBroadcastRequest } from '../../src/broadcasting/broadcast-signature.ts'
import { ChannelRegistry } from '../../src/broadcasting/channel-registry.ts'
import { currentSocketId } from '../../src/broadcasting/socket-context.ts'
import type { UserResolver } from '../../src/broadcasting/contracts.ts'
import { createHttpKernel, type HttpKernel, type HttpKernelOptions } from '../../src/http/http-kernel.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const WAIT = { timeout: 10_000, interval: 10 }

// ---------------------------------------------------------------------------------------------
// Servers, clients, and what each client received.

/** The channels of a small application: owners see their orders, anyone but "banned" the rooms, chat members by name. */
function channels(): ChannelRegistry {
  const registry = new ChannelRegistry()
  registry.channel('orders.{orderId}', (user, orderId) => String(user.id) === orderId)
  registry.channel('room.{roomId}', (user) => user.id !== 'banned')
  registry.channel('chat.{roomId}', (user) => (user.id === '9' ? false : { id: user.id, name: `User ${user.id}` }))
  return registry
}

const info = (id: string) => ({ id, name: `User ${id}` })
const member = (id: string) => ({ user_id: id, user_info: info(id) })

interface Started {
  readonly app: Application
  readonly kernel: HttpKernel
  readonly port: number
  readonly base: string
}

const kernels: HttpKernel[] = []
const clients: Client[] = []
const redisClients: Redis[] = []

async function start(options: Partial<HttpKernelOptions> = {}): Promise<Started> {
  const app = new Application({ loadConfig: false, envFile: false, env: {} })
  const kernel = createHttpKernel(app, { channels: channels(), ...options })
  kernels.push(kernel)
  const { port } = await kernel.listen(0, '127.0.0.1')
  return { app, kernel, port, base: `http://127.0.0.1:${port}` }
}

interface Received {
  readonly event: string
  readonly channel: unknown
  readonly data: unknown
}

interface Client {
  readonly echo: Echo<'socket.io'>
  /** The socket.io-client socket under Echo, for what Echo does not expose (subscription_error). */
  readonly socket: ClientSocket
  /** Every event the socket received, in order, raw. */
  readonly log: Received[]
}

/** A browser tab: Echo with the options the README tells users to set, connected. */
async function connect(port: number, token?: string, options: Record<string, unknown> = {}): Promise<Client> {
  const echo = new Echo<'socket.io'>({
    broadcaster: 'socket.io',
    client: io,
    host: `http://127.0.0.1:${port}`,
    auth: { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } },
    transports: ['websocket'],
    // Reconnect quickly when the reconnect test drops the transport.
    reconnectionDelay: 20,
    reconnectionDelayMax: 100,
    ...options,
  })
  const socket = echo.connector.socket as unknown as ClientSocket
  const log: Received[] = []
  socket.onAny((event: string, channel: unknown, data: unknown) => void log.push({ event, channel, data }))
  const client = { echo, socket, log }
  clients.push(client)
  await new Promise<void>((resolve, reject) => {
    if (socket.connected) return resolve()
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  return client
}

function socketId(client: Client): string {
  const id = client.echo.socketId()
  if (id === undefined) throw new Error('The client is not connected.')
  return id
}

function inRoom(kernel: HttpKernel, channel: string, client: Client): boolean {
  const id = client.echo.socketId()
  return id !== undefined && (kernel.echo.io.sockets.adapter.rooms.get(channel)?.has(id) ?? false)
}

function roomIds(kernel: HttpKernel, channel: string): string[] {
  return [...(kernel.echo.io.sockets.adapter.rooms.get(channel) ?? [])]
}

/** Resolves once the server has handled everything this client sent before: socket.io handles one socket's packets in order. */
async function handled(kernel: HttpKernel, client: Client): Promise<void> {
  const marker = `marker-${randomBytes(4).toString('hex')}`
  client.socket.emit('subscribe', { channel: marker, auth: {} })
  await expect.poll(() => inRoom(kernel, marker, client), WAIT).toBe(true)
}

/** The events a client received on one channel, by name. */
function eventsOn(client: Client, channel: string): string[] {
  return client.log.filter((entry) => entry.channel === channel).map((entry) => entry.event)
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.echo.disconnect()
  await Promise.all(kernels.splice(0).map((kernel) => kernel.close()))
  await Promise.all(redisClients.splice(0).map((client) => client.quit().catch(() => client.disconnect())))
})

// ---------------------------------------------------------------------------------------------

describe('public channels', () => {
  it('delivers (event, channel, data) to Echo listeners named with a leading dot or with namespace: false', async () => {
    const { kernel, port } = await start()
    const dotted = await connect(port)
    const unprefixed = await connect(port, undefined, { namespace: false })
    const gotDotted: unknown[] = []
    const gotUnprefixed: unknown[] = []
    dotted.echo.channel('orders').listen('.OrderPlaced', (data: unknown) => void gotDotted.push(data))
    unprefixed.echo.channel('orders').listen('OrderPlaced', (data: unknown) => void gotUnprefixed.push(data))
    await expect.poll(() => roomIds(kernel, 'orders').length, WAIT).toBe(2)

    await kernel.echo.deliver({ channels: ['invoices'], event: 'OrderPlaced', data: { id: 0 } })
    await kernel.echo.deliver({ channels: ['orders'], event: 'OrderPlaced', data: { id: 1, total: 9.5 } })

    await expect.poll(() => gotDotted, WAIT).toEqual([{ id: 1, total: 9.5 }])
    await expect.poll(() => gotUnprefixed, WAIT).toEqual([{ id: 1, total: 9.5 }])
    // The wire shape Echo filters on, and nothing from a channel the client never subscribed to.
    expect(dotted.log).toEqual([{ event: 'OrderPlaced', channel: 'orders', data: { id: 1, total: 9.5 } }])
  })

  it('skips the socket named in except (toOthers), and only that one', async () => {
    const { kernel, port } = await start()
    const sender = await connect(port)
    const other = await connect(port)
    const gotSender: unknown[] = []
    const gotOther: unknown[] = []
    sender.echo.channel('orders').listen('.OrderPlaced', (data: unknown) => void gotSender.push(data))
    other.echo.channel('orders').listen('.OrderPlaced', (data: unknown) => void gotOther.push(data))
    await expect.poll(() => roomIds(kernel, 'orders').length, WAIT).toBe(2)

    await kernel.echo.deliver({ channels: ['orders'], event: 'OrderPlaced', data: { n: 1 }, except: socketId(sender) })
    await kernel.echo.deliver({ channels: ['orders'], event: 'OrderPlaced', data: { n: 2 } })

    await expect.poll(() => gotOther, WAIT).toEqual([{ n: 1 }, { n: 2 }])
    await expect.poll(() => gotSender, WAIT).toEqual([{ n: 2 }])
  })

  it('rejects an event name socket.io reserves, naming the fix', async () => {
    const { kernel } = await start()
    await expect(kernel.echo.deliver({ channels: ['orders'], event: 'disconnect', data: {} })).rejects.toThrow(
      'Cannot broadcast "disconnect": socket.io reserves that name. Rename the event with broadcastAs().',
    )
  })
})

describe('private channels', () => {
  it('lets the owner in; a denied user and a guest get subscription_error 403 and nothing from the channel', async () => {
    const { kernel, port } = await start()
    const owner = await connect(port, '1')
    const stranger = await connect(port, '2')
    const guest = await connect(port)
    const shipped: Record<string, unknown[]> = { owner: [], stranger: [], guest: [] }
    for (const [name, client] of Object.entries({ owner, stranger, guest })) {
      client.echo.private('orders.1').listen('.OrderShipped', (data: unknown) => void shipped[name]!.push(data))
      client.echo.channel('orders').listen('.Sentinel', () => {})
    }

    const refused = { event: 'subscription_error', channel: 'private-orders.1', data: 403 }
    await expect.poll(() => stranger.log, WAIT).toContainEqual(refused)
    await expect.poll(() => guest.log, WAIT).toContainEqual(refused)
    await expect.poll(() => inRoom(kernel, 'private-orders.1', owner), WAIT).toBe(true)
    await expect.poll(() => roomIds(kernel, 'orders').length, WAIT).toBe(3)
    expect(roomIds(kernel, 'private-orders.1')).toEqual([socketId(owner)])

    await kernel.echo.deliver({ channels: ['private-orders.1'], event: 'OrderShipped', data: { id: 1 } })
    await kernel.echo.deliver({ channels: ['orders'], event: 'Sentinel', data: {} })

    await expect.poll(() => shipped.owner, WAIT).toEqual([{ id: 1 }])
    await expect.poll(() => eventsOn(stranger, 'orders'), WAIT).toEqual(['Sentinel'])
    await expect.poll(() => eventsOn(guest, 'orders'), WAIT).toEqual(['Sentinel'])
    expect(eventsOn(stranger, 'private-orders.1')).toEqual(['subscription_error'])
    expect(eventsOn(guest, 'private-orders.1')).toEqual(['subscription_error'])
    expect(shipped.stranger).toEqual([])
    expect(shipped.guest).toEqual([])
    expect(owner.log.some((entry) => entry.event === 'subscription_error')).toBe(false)
  })

  it('uses the configured resolver, which sees the handshake cookies and handshake.auth', async () => {
    const fromCookieOrToken: UserResolver = (request) => {
      if (request.cookies.session) return { id: request.cookies.session }
      return typeof request.auth.token === 'string' ? { id: request.auth.token } : null
    }
    const { kernel, port } = await start({ resolveUser: fromCookieOrToken })
    const withCookie = await connect(port, undefined, { extraHeaders: { cookie: 'theme=dark; session=7' } })
    // Echo hands its whole options object to io(), so its `auth` is also socket.io's handshake.auth.
    const withToken = await connect(port, undefined, { auth: { headers: {}, token: '8' } })
    // A bearer token would be the default resolver's user 7; this resolver ignores it.
    const bearerOnly = await connect(port, '7')

    withCookie.echo.private('orders.7')
    withToken.echo.private('orders.8')
    withToken.echo.private('orders.7')
    bearerOnly.echo.private('orders.7')

    await expect.poll(() => inRoom(kernel, 'private-orders.7', withCookie), WAIT).toBe(true)
    await expect.poll(() => inRoom(kernel, 'private-orders.8', withToken), WAIT).toBe(true)
    await expect.poll(() => withToken.log, WAIT).toContainEqual({ event: 'subscription_error', channel: 'private-orders.7', data: 403 })
    await expect.poll(() => bearerOnly.log, WAIT).toContainEqual({ event: 'subscription_error', channel: 'private-orders.7', data: 403 })
    expect(roomIds(kernel, 'private-orders.7')).toEqual([socketId(withCookie)])
  })

  it('reports a resolver that throws as subscription_error 500 and keeps serving', async () => {
    const lines: string[] = []
    const { app, kernel, port } = await start({
      resolveUser: (request) => {
        if (request.headers['authorization'] === 'Bearer boom') throw new Error('session store down')
        return { id: 'ok' }
      },
    })
    app.logger = { debug() {}, info() {}, warn() {}, error: (line) => void lines.push(line) }
    const failing = await connect(port, 'boom')
    failing.echo.private('room.1')
    await expect.poll(() => failing.log, WAIT).toContainEqual({ event: 'subscription_error', channel: 'private-room.1', data: 500 })
    expect(lines.join('\n')).toContain('Authorizing "private-room.1" for socket')
    expect(lines.join('\n')).toContain('session store down')

    const fine = await connect(port, 'fine')
    fine.echo.private('room.1')
    await expect.poll(() => inRoom(kernel, 'private-room.1', fine), WAIT).toBe(true)
  })

  it('an unsubscribe sent while the subscription is being authorized wins', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { kernel, port } = await start({
      resolveUser: async (request) => {
        await gate
        return { id: String(request.headers['authorization']).slice('Bearer '.length) }
      },
    })
    const client = await connect(port, '1')
    client.echo.private('orders.1')
    client.echo.leave('orders.1')
    await handled(kernel, client)
    release()
    // A later subscription on the same socket, once authorized, proves the first has been decided.
    client.echo.private('room.1')
    await expect.poll(() => inRoom(kernel, 'private-room.1', client), WAIT).toBe(true)
    expect(inRoom(kernel, 'private-orders.1', client)).toBe(false)
  })
})

describe('presence channels', () => {
  it('here, joining and leaving with two users, the second tab of a user announced neither way', async () => {
    const { kernel, port } = await start()
    const seen = { here: [] as unknown[], joining: [] as unknown[], leaving: [] as unknown[] }
    const watch = (client: Client, into: typeof seen) =>
      client.echo
        .join('chat.1')
        .here((members: unknown) => void into.here.push(members))
        .joining((user: unknown) => void into.joining.push(user))
        .leaving((user: unknown) => void into.leaving.push(user))

    const oneTabA = await connect(port, '1')
    const seenA = structuredClone(seen)
    watch(oneTabA, seenA)
    await expect.poll(() => seenA.here, WAIT).toEqual([[info('1')]])

    const two = await connect(port, '2')
    const seenTwo = structuredClone(seen)
    watch(two, seenTwo)
    await expect.poll(() => seenTwo.here, WAIT).toEqual([[info('1'), info('2')]])
    await expect.poll(() => seenA.joining, WAIT).toEqual([info('2')])
    // On the wire: members are { user_id, user_info }.
    expect(two.log[0]).toEqual({ event: 'presence:subscribed', channel: 'presence-chat.1', data: [member('1'), member('2')] })

    // User 1 opens a second tab: listed once in its here(), not announced to user 2.
    const oneTabB = await connect(port, '1')
    const seenB = structuredClone(seen)
    watch(oneTabB, seenB)
    await expect.poll(() => seenB.here, WAIT).toEqual([[info('1'), info('2')]])

    // The first tab closes: user 1 is still present through the second.
    oneTabA.echo.disconnect()
    await expect.poll(() => roomIds(kernel, 'presence-chat.1').length, WAIT).toBe(2)
    expect(await kernel.echo.members('presence-chat.1')).toEqual([member('2'), member('1')])
    await kernel.echo.deliver({ channels: ['presence-chat.1'], event: 'Ping', data: {} })
    await expect.poll(() => eventsOn(two, 'presence-chat.1'), WAIT).toEqual(['presence:subscribed', 'Ping'])

    // The last tab leaves the channel: now user 2 hears it, once.
    oneTabB.echo.leave('chat.1')
    await expect.poll(() => seenTwo.leaving, WAIT).toEqual([info('1')])
    expect(seenTwo.joining).toEqual([])
    expect(await kernel.echo.members('presence-chat.1')).toEqual([member('2')])
    await kernel.echo.deliver({ channels: ['presence-chat.1'], event: 'Ping', data: {} })
    await expect.poll(() => eventsOn(two, 'presence-chat.1'), WAIT).toEqual(['presence:subscribed', 'Ping', 'presence:leaving', 'Ping'])
  })

  it("a user's last socket disconnecting announces leaving; a denied user joins nothing", async () => {
    const { kernel, port } = await start()
    const one = await connect(port, '1')
    const leaving: unknown[] = []
    const joining: unknown[] = []
    one.echo
      .join('chat.1')
      .joining((user: unknown) => void joining.push(user))
      .leaving((user: unknown) => void leaving.push(user))
    await expect.poll(() => eventsOn(one, 'presence-chat.1'), WAIT).toEqual(['presence:subscribed'])

    const denied = await connect(port, '9')
    const deniedHere: unknown[] = []
    denied.echo.join('chat.1').here((members: unknown) => void deniedHere.push(members))
    await expect.poll(() => denied.log, WAIT).toEqual([{ event: 'subscription_error', channel: 'presence-chat.1', data: 403 }])

    const two = await connect(port, '2')
    two.echo.join('chat.1')
    await expect.poll(() => joining, WAIT).toEqual([info('2')])
    two.echo.disconnect()
    await expect.poll(() => leaving, WAIT).toEqual([info('2')])
    expect(deniedHere).toEqual([])
    expect(await kernel.echo.members('presence-chat.1')).toEqual([member('1')])
    expect(roomIds(kernel, 'presence-chat.1')).toEqual([socketId(one)])
  })
})

describe('whispers', () => {
  it('reach the others on a joined private channel, never the sender; nothing else is forwarded', async () => {
    const { kernel, port } = await start()
    const one = await connect(port, '1')
    const two = await connect(port, '2')
    const outsider = await connect(port, '3')
    const heardByOne: unknown[] = []
    const heardByTwo: unknown[] = []
    one.echo.private('room.1').listenForWhisper('typing', (data: unknown) => void heardByOne.push(data))
    two.echo.private('room.1').listenForWhisper('typing', (data: unknown) => void heardByTwo.push(data))
    two.echo.channel('lobby')
    outsider.echo.channel('lobby')
    await expect.poll(() => roomIds(kernel, 'private-room.1').length, WAIT).toBe(2)
    await expect.poll(() => roomIds(kernel, 'lobby').length, WAIT).toBe(2)

    one.echo.private('room.1').whisper('typing', { from: 1 })
    await expect.poll(() => heardByTwo, WAIT).toEqual([{ from: 1 }])
    // Two answers only after hearing one, so an echo of one's own whisper would have come first.
    two.echo.private('room.1').whisper('typing', { from: 2 })
    await expect.poll(() => heardByOne, WAIT).toEqual([{ from: 2 }])

    // Not joined, public, not client-*: none of these may reach user 2.
    outsider.socket.emit('client event', { channel: 'private-room.1', event: 'client-typing', data: { from: 'outsider' } })
    outsider.socket.emit('client event', { channel: 'lobby', event: 'client-typing', data: { from: 'lobby' } })
    one.socket.emit('client event', { channel: 'private-room.1', event: 'OrderShipped', data: { forged: true } })
    await handled(kernel, outsider)
    await handled(kernel, one)
    await kernel.echo.deliver({ channels: ['private-room.1', 'lobby'], event: 'Sentinel', data: {} })

    await expect.poll(() => eventsOn(two, 'lobby'), WAIT).toEqual(['Sentinel'])
    await expect.poll(() => eventsOn(two, 'private-room.1'), WAIT).toEqual(['client-typing', 'Sentinel'])
    expect(heardByTwo).toEqual([{ from: 1 }])
    expect(eventsOn(one, 'private-room.1')).toEqual(['client-typing', 'Sentinel'])
  })
})

describe('reconnecting', () => {
  it('Echo subscribes again after the connection drops, and receives again', async () => {
    const { kernel, port } = await start()
    const client = await connect(port, '1')
    const got: unknown[] = []
    client.echo.channel('orders').listen('.OrderPlaced', (data: unknown) => void got.push(data))
    client.echo.private('orders.1').listen('.OrderShipped', (data: unknown) => void got.push(data))
    await expect.poll(() => inRoom(kernel, 'private-orders.1', client), WAIT).toBe(true)
    await expect.poll(() => inRoom(kernel, 'orders', client), WAIT).toBe(true)

    // Drop the transport under the socket, as a network failure would: the client reconnects on its own.
    const firstId = socketId(client)
    kernel.echo.io.sockets.sockets.get(firstId)!.conn.close()
    await expect.poll(() => client.socket.connected && client.echo.socketId() !== firstId, WAIT).toBe(true)
    await expect.poll(() => inRoom(kernel, 'orders', client) && inRoom(kernel, 'private-orders.1', client), WAIT).toBe(true)
    expect(roomIds(kernel, 'orders')).toEqual([socketId(client)])

    await kernel.echo.deliver({ channels: ['orders'], event: 'OrderPlaced', data: { id: 1 } })
    await kernel.echo.deliver({ channels: ['private-orders.1'], event: 'OrderShipped', data: { id: 1 } })
    await expect.poll(() => got, WAIT).toEqual([{ id: 1 }, { id: 1 }])
  })
})

describe('POST /broadcasting/auth', () => {
  async function post(base: string, body: string, headers: Record<string, string>) {
    const response = await fetch(`${base}/broadcasting/auth`, { method: 'POST', body, headers })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  const json = (token?: string) => ({
    'content-type': 'application/json',
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  })

  it('answers 200 {} for an allowed private channel, channel_data for presence, 403 with a message when denied', async () => {
    const { base } = await start()
    expect(await post(base, JSON.stringify({ channel_name: 'private-orders.1', socket_id: 'abc' }), json('1'))).toEqual({ status: 200, body: {} })

    const presence = await post(base, 'channel_name=presence-chat.1&socket_id=abc', {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Bearer 1',
    })
    expect(presence.status).toBe(200)
    expect(typeof presence.body.channel_data).toBe('string')
    expect(JSON.parse(presence.body.channel_data as string)).toEqual(member('1'))

    expect(await post(base, JSON.stringify({ channel_name: 'private-orders.1' }), json('2'))).toEqual({
      status: 403,
      body: { message: 'User 2 may not subscribe to "private-orders.1".' },
    })
    const guest = await post(base, JSON.stringify({ channel_name: 'private-orders.1' }), json())
    expect(guest.status).toBe(403)
    expect(guest.body.message).toContain('No user for this request')
    expect((await post(base, JSON.stringify({ channel_name: 'presence-chat.1' }), json('9'))).status).toBe(403)
    expect((await post(base, JSON.stringify({ channel_name: 'private-unknown.1' }), json('1'))).status).toBe(403)
  })

  it('reads the user from cookies with a custom resolver, and names a missing channel_name', async () => {
    const { base } = await start({ resolveUser: (request) => (request.cookies.session ? { id: request.cookies.session } : null) })
    expect(await post(base, JSON.stringify({ channel_name: 'private-orders.7' }), { ...json(), cookie: 'session=7' })).toEqual({
      status: 200,
      body: {},
    })
    expect((await post(base, JSON.stringify({ channel_name: 'private-orders.7' }), json('7'))).status).toBe(403)
    const missing = await post(base, JSON.stringify({ socket_id: 'abc' }), { ...json(), cookie: 'session=7' })
    expect(missing.status).toBe(400)
    expect(missing.body.message).toContain('needs channel_name')
    const malformed = await post(base, '{"channel_name":', json('1'))
    expect(malformed.status).toBe(400)
  })
})

describe('the rest of the HTTP kernel', () => {
  it('runs each request with the X-Socket-ID it came with, which toOthers() leaves out', async () => {
    const { kernel, port, base } = await start()
    kernel.routes.post('/orders', async (_request, response) => {
      await kernel.echo.deliver({ channels: ['orders'], event: 'OrderPlaced', data: { by: currentSocketId() }, except: currentSocketId() })
      response.status(201).json({})
    })
    const sender = await connect(port)
    const other = await connect(port)
    for (const client of [sender, other]) client.echo.channel('orders').listen('.OrderPlaced', () => {})
    await expect.poll(() => roomIds(kernel, 'orders').length, WAIT).toBe(2)

    const response = await fetch(`${base}/orders`, { method: 'POST', headers: { 'X-Socket-ID': socketId(sender) } })
    expect(response.status).toBe(201)
    await kernel.echo.deliver({ channels: ['orders'], event: 'Sentinel', data: {} })
    await expect.poll(() => other.log.map((entry) => entry.event), WAIT).toEqual(['OrderPlaced', 'Sentinel'])
    expect(other.log[0]!.data).toEqual({ by: socketId(sender) })
    await expect.poll(() => sender.log.map((entry) => entry.event), WAIT).toEqual(['Sentinel'])
  })

  it("delivers a broadcast another process posts, signed with the application's key, and refuses a bad signature", async () => {
    const { kernel, port, base } = await start({ broadcastKey: 'test-app-key' })
    const client = await connect(port)
    client.echo.channel('orders').listen('.OrderPlaced', () => {})
    await expect.poll(() => inRoom(kernel, 'orders', client), WAIT).toBe(true)
    const post = (key: string, data: Record<string, unknown>) => {
      const { body, signature } = encodeBroadcastRequest({ channels: ['orders'], event: 'OrderPlaced', data }, key)
      const headers = { 'content-type': BROADCAST_CONTENT_TYPE, [SIGNATURE_HEADER]: signature }
      return fetch(`${base}/_herald/broadcast`, { method: 'POST', body, headers })
    }

    expect((await post('another-key', { id: 'forged' })).status).toBe(403)
    expect((await post('test-app-key', { id: 1 })).status).toBe(204)
    await expect.poll(() => client.log, WAIT).toEqual([{ event: 'OrderPlaced', channel: 'orders', data: { id: 1 } }])
  })
})

describe('closing', () => {
  it('close() is idempotent, drops clients so they reconnect later, and app.shutdown() closes the kernel', async () => {
    const first = await start()
    const client = await connect(first.port, '1')
    const disconnected = new Promise<string>((resolve) => client.socket.once('disconnect', resolve))
    const closing = first.kernel.close()
    expect(first.kernel.close()).toBe(closing)
    await closing
    expect(first.kernel.server.listening).toBe(false)
    // The transport just closes, so a client reconnects by itself once the server is back.
    expect(await disconnected).toBe('transport close')
    await expect(first.kernel.echo.deliver({ channels: ['orders'], event: 'Late', data: {} })).rejects.toThrow(
      'The socket.io server is closed, so "Late" cannot be delivered',
    )

    const second = await start()
    await second.app.shutdown()
    expect(second.kernel.server.listening).toBe(false)
  })
})

describe('across servers (Redis adapter)', () => {
  const key = (entry: { id?: unknown; user_id?: unknown }) => String(entry.id ?? entry.user_id)
  const byId = (list: unknown) => [...(list as Array<{ id?: unknown; user_id?: unknown }>)].sort((x, y) => key(x).localeCompare(key(y)))

  it('presence, deliveries and whispers span two servers', async () => {
    const prefix = `herald-test-echo-${process.pid}-${randomBytes(4).toString('hex')}`
    const adapter = () => {
      const pub = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
      const sub = pub.duplicate()
      redisClients.push(pub, sub)
      return createAdapter(pub, sub, { key: prefix, requestsTimeout: 5_000 })
    }
    const a = await start({ adapter: adapter() })
    const b = await start({ adapter: adapter() })
    // Both servers subscribed to the adapter's channels before any client arrives.
    await expect.poll(() => a.kernel.echo.io.of('/').adapter.serverCount(), WAIT).toBe(2)
    await expect.poll(() => b.kernel.echo.io.of('/').adapter.serverCount(), WAIT).toBe(2)

    const one = await connect(a.port, '1')
    const joiningOne: unknown[] = []
    const leavingOne: unknown[] = []
    const whispersOne: unknown[] = []
    one.echo
      .join('chat.1')
      .joining((user: unknown) => void joiningOne.push(user))
      .leaving((user: unknown) => void leavingOne.push(user))
      .listenForWhisper('typing', (data: unknown) => void whispersOne.push(data))
    await expect.poll(() => eventsOn(one, 'presence-chat.1'), WAIT).toEqual(['presence:subscribed'])

    const two = await connect(b.port, '2')
    const hereTwo: unknown[] = []
    const messagesTwo: unknown[] = []
    two.echo
      .join('chat.1')
      .here((members: unknown) => void hereTwo.push(members))
      .listen('.Message', (data: unknown) => void messagesTwo.push(data))
    // Across servers the order of here() is each server's sockets in turn: compare as sets.
    await expect.poll(() => hereTwo.map(byId), WAIT).toEqual([[info('1'), info('2')]])
    await expect.poll(() => joiningOne, WAIT).toEqual([info('2')])

    // A second tab of user 1, on server B, sees both users and is announced to no one.
    const oneAgain = await connect(b.port, '1')
    const hereAgain: unknown[] = []
    oneAgain.echo.join('chat.1').here((members: unknown) => void hereAgain.push(members))
    await expect.poll(() => hereAgain.map(byId), WAIT).toEqual([[info('1'), info('2')]])
    expect(byId(await a.kernel.echo.members('presence-chat.1'))).toEqual([member('1'), member('2')])

    await a.kernel.echo.deliver({ channels: ['presence-chat.1'], event: 'Message', data: { text: 'from A' } })
    await expect.poll(() => messagesTwo, WAIT).toEqual([{ text: 'from A' }])
    two.echo.join('chat.1').whisper('typing', { from: 2 })
    await expect.poll(() => whispersOne, WAIT).toEqual([{ from: 2 }])
    expect(eventsOn(two, 'presence-chat.1')).toEqual(['presence:subscribed', 'Message'])

    two.echo.disconnect()
    await expect.poll(() => leavingOne, WAIT).toEqual([info('2')])
    expect(joiningOne).toEqual([info('2')])
  })
})
