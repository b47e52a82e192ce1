/**
 * What one socket can make the server hold or do, frame by frame: the channel count, the
 * subscribe rate, the size of a whisper, and frames whose JSON is not what Echo sends
 * (numbers, arrays, objects, nesting tens of thousands deep). Each is refused with
 * `subscription_error (channel, status)`, the socket stays connected, and the server holds
 * nothing for it. Real socket.io clients against the framework's server, over loopback.
 *
 * Every wait is a condition; to prove nothing else arrived, the test waits for something that
 * must arrive afterwards on the same connection (socket.io keeps one socket's order).
 */
import { randomBytes } from 'node:crypto'
import { io, type Socket } from 'socket.io-client'
import { afterEach, describe, expect, it } from 'vitest'
import { Application } from 'herald'
import { ChannelRegistry } from '../../src/broadcasting/channel-registry.ts'
import { createHttpKernel, type HttpKernel } from '../../src/http/http-kernel.ts'

const WAIT = { timeout: 20_000, interval: 10 }

interface Client {
  readonly socket: Socket
  /** Every subscription_error, in order. */
  readonly errors: Array<{ channel: unknown; status: unknown }>
  /** Every whisper received, in order. */
  readonly whispers: Array<{ event: string; data: unknown }>
}

const apps: Application[] = []
const sockets: Socket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect()
  // Each application's shutdown closes its kernel.
  await Promise.all(apps.splice(0).map((app) => app.shutdown()))
})

/** An application booted from `env` alone (no .env, no config/), and its HTTP kernel listening on a free port. */
async function start(env: Record<string, string> = {}): Promise<{ kernel: HttpKernel; port: number }> {
  const app = new Application({ loadConfig: false, envFile: false, env })
  apps.push(app)
  await app.boot()
  const channels = new ChannelRegistry()
  channels.channel('room.{id}', () => true)
  const kernel = createHttpKernel(app, { channels })
  const { port } = await kernel.listen(0, '127.0.0.1')
  return { kernel, port }
}

async function connect(port: number): Promise<Client> {
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true })
  sockets.push(socket)
  const client: Client = { socket, errors: [], whispers: [] }
  socket.on('subscription_error', (channel: unknown, status: unknown) => void client.errors.push({ channel, status }))
  socket.onAny((event: string, _channel: unknown, data: unknown) => {
    if (event.startsWith('client-')) client.whispers.push({ event, data })
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  return client
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } })

function channelsOf(kernel: HttpKernel, client: Client): string[] {
  const id = client.socket.id
  return [...kernel.echo.io.sockets.adapter.rooms.entries()].filter(([name, ids]) => name !== id && id !== undefined && ids.has(id)).map(([name]) => name)
}

/** Subscribes to a fresh public channel and waits until the server has the socket in it. */
async function subscribesLegally(kernel: HttpKernel, client: Client): Promise<void> {
  const channel = `marker-${randomBytes(4).toString('hex')}`
  client.socket.emit('subscribe', { channel, auth: {} })
  await expect.poll(() => channelsOf(kernel, client).includes(channel), WAIT).toBe(true)
}

/** Sends a socket.io EVENT packet as raw text, past the client's encoder: what a hostile client can put on the wire. */
function sendRaw(client: Client, packet: string): void {
  client.socket.io.engine.write(`2${packet}`)
}

describe('channels per socket', () => {
  it('refuses the 101st channel with 413, keeps the socket, and frees a slot on unsubscribe', async () => {
    const { kernel, port } = await start({ BROADCAST_SUBSCRIBE_RATE: '10000' })
    const client = await connect(port)
    for (let i = 0; i < 130; i++) client.socket.emit('subscribe', { channel: `news.${i}`, auth: {} })

    await expect.poll(() => client.errors.length, WAIT).toBe(30)
    expect(client.errors).toEqual(Array.from({ length: 30 }, (_, i) => ({ channel: `news.${100 + i}`, status: 413 })))
    expect(channelsOf(kernel, client).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `news.${i}`).sort())
    // Subscribing again to a channel it holds takes no new slot.
    client.socket.emit('subscribe', { channel: 'news.7', auth: {} })
    client.socket.emit('unsubscribe', { channel: 'news.0', auth: {} })
    await subscribesLegally(kernel, client)
    expect(client.errors).toHaveLength(30)
    expect(channelsOf(kernel, client)).toHaveLength(100)
    expect(client.socket.connected).toBe(true)
  })

  it('counts private channels still being authorized, so a burst cannot overshoot', async () => {
    const { kernel, port } = await start({ BROADCAST_MAX_CHANNELS: '3', BROADCAST_SUBSCRIBE_RATE: '10000' })
    const client = await connect(port)
    for (let i = 0; i < 5; i++) client.socket.emit('subscribe', { channel: `private-room.${i}`, auth: bearer('1') })

    await expect.poll(() => client.errors, WAIT).toEqual([
      { channel: 'private-room.3', status: 413 },
      { channel: 'private-room.4', status: 413 },
    ])
    await expect.poll(() => channelsOf(kernel, client).sort(), WAIT).toEqual(['private-room.0', 'private-room.1', 'private-room.2'])
  })
})

describe('subscribe rate', () => {
  it('refuses subscribes over the rate with 429 and lets the socket in again once the window has passed', async () => {
    const { kernel, port } = await start({ BROADCAST_SUBSCRIBE_RATE: '3', BROADCAST_SUBSCRIBE_RATE_SECONDS: '2' })
    const client = await connect(port)
    for (let i = 0; i < 5; i++) client.socket.emit('subscribe', { channel: `feed.${i}`, auth: {} })

    await expect.poll(() => client.errors.length, WAIT).toBe(2)
    expect(client.errors).toEqual([
      { channel: 'feed.3', status: 429 },
      { channel: 'feed.4', status: 429 },
    ])
    expect(channelsOf(kernel, client).sort()).toEqual(['feed.0', 'feed.1', 'feed.2'])
    expect(client.socket.connected).toBe(true)
    // After the window the same socket subscribes again (retrying until it has passed).
    await expect
      .poll(() => {
        if (!channelsOf(kernel, client).includes('feed.3')) client.socket.emit('subscribe', { channel: 'feed.3', auth: {} })
        return channelsOf(kernel, client).includes('feed.3')
      }, { timeout: 20_000, interval: 250 })
      .toBe(true)
  })
})

describe('frames that are not what Echo sends', () => {
  const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
  const odd = ['5', '"orders"', 'null', 'true', '[]', '["orders"]', '{}', '{"channel":5}', '{"channel":{}}', '{"channel":["orders"]}', '{"channel":""}', deep(40_000)]

  it('answers each malformed subscribe, unsubscribe and client event with 400, and never crashes', async () => {
    const { kernel, port } = await start()
    const client = await connect(port)
    for (const payload of odd) {
      sendRaw(client, `["subscribe",${payload}]`)
      sendRaw(client, `["unsubscribe",${payload}]`)
      sendRaw(client, `["client event",${payload}]`)
    }
    // No payload at all, and a client event without a string event name.
    sendRaw(client, '["subscribe"]')
    sendRaw(client, '["client event",{"channel":"private-room.1","event":{"name":"client-x"}}]')

    const expected = odd.length * 3 + 2
    await expect.poll(() => client.errors.length, WAIT).toBe(expected)
    expect(client.errors.slice(0, -1).every((error) => error.channel === null && error.status === 400)).toBe(true)
    expect(client.errors.at(-1)).toEqual({ channel: 'private-room.1', status: 400 })
    expect(client.socket.connected).toBe(true)
    await subscribesLegally(kernel, client)
    expect(channelsOf(kernel, client)).toHaveLength(1)
  })
})

describe('client events (whispers)', () => {
  async function joinedPair(): Promise<{ kernel: HttpKernel; sender: Client; other: Client }> {
    const { kernel, port } = await start()
    const sender = await connect(port)
    const other = await connect(port)
    for (const [client, token] of [[sender, '1'], [other, '2']] as const) {
      client.socket.emit('subscribe', { channel: 'private-room.1', auth: bearer(token) })
      await expect.poll(() => channelsOf(kernel, client), WAIT).toEqual(['private-room.1'])
    }
    return { kernel, sender, other }
  }

  it('refuses data over 10 KB with 413 and data nested too deep with 400, and forwards the rest', async () => {
    const { sender, other } = await joinedPair()
    let nested: unknown = 'end'
    for (let i = 0; i < 40; i++) nested = [nested]

    sender.socket.emit('client event', { channel: 'private-room.1', event: 'client-big', data: { text: 'y'.repeat(20_000) } })
    sender.socket.emit('client event', { channel: 'private-room.1', event: 'client-deep', data: nested })
    // 40,000 levels in one frame, sent raw: the client's own encoder would not survive it.
    sendRaw(sender, `["client event",{"channel":"private-room.1","event":"client-raw","data":${'['.repeat(40_000)}${']'.repeat(40_000)}}]`)
    sender.socket.emit('client event', { channel: 'private-room.1', event: 'client-typing', data: { name: 'Ann' } })

    await expect.poll(() => other.whispers, WAIT).toEqual([{ event: 'client-typing', data: { name: 'Ann' } }])
    await expect.poll(() => sender.errors, WAIT).toEqual([
      { channel: 'private-room.1', status: 413 },
      { channel: 'private-room.1', status: 400 },
      { channel: 'private-room.1', status: 400 },
    ])
    expect(sender.socket.connected).toBe(true)
  })

  it('refuses an over-long event or channel name with 414, cut to the limit', async () => {
    const { sender, other } = await joinedPair()
    sender.socket.emit('client event', { channel: 'private-room.1', event: `client-${'e'.repeat(500)}`, data: {} })
    sender.socket.emit('client event', { channel: `private-${'r'.repeat(500)}`, event: 'client-typing', data: {} })
    sender.socket.emit('client event', { channel: 'private-room.1', event: 'client-typing', data: { n: 1 } })

    await expect.poll(() => other.whispers, WAIT).toEqual([{ event: 'client-typing', data: { n: 1 } }])
    expect(sender.errors).toEqual([
      { channel: 'private-room.1', status: 414 },
      { channel: `private-${'r'.repeat(192)}`, status: 414 },
    ])
  })
})

describe('settings', () => {
  it('a limit that is not a whole number above 0 is a one-line error naming the setting', async () => {
    const app = new Application({ loadConfig: false, envFile: false, env: { BROADCAST_MAX_CHANNELS: '0' } })
    apps.push(app)
    await app.boot()
    expect(() => createHttpKernel(app, { channels: new ChannelRegistry() })).toThrow(
      'broadcasting.limits.channelsPerSocket (BROADCAST_MAX_CHANNELS) must be a whole number above 0, got 0: fix it in config/broadcasting.ts or .env.',
    )
  })
})
