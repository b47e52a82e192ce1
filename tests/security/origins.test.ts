/**
 * Issue 11, problem 5 (in part): a WebSocket from any `Origin` was accepted, so any site a
 * logged-in user visited could open a socket with the user's cookies (cross-site WebSocket
 * hijacking). Now the socket.io handshake (WebSocket and polling) and `POST /broadcasting/auth`
 * take only the allowed origins: BROADCAST_ALLOWED_ORIGINS, else APP_URL and, in `local` or
 * `testing`, localhost on any port. A client that sends no Origin (not a browser) is let in.
 *
 * Real socket.io clients set the browser's header with `extraHeaders` over the WebSocket
 * transport; the polling handshake and /broadcasting/auth are fetched.
 */
import { io, type Socket } from 'socket.io-client'
import { afterEach, describe, expect, it } from 'vitest'
import { Application } from 'herald'
import { ChannelRegistry } from '../../src/broadcasting/channel-registry.ts'
import { createHttpKernel } from '../../src/http/http-kernel.ts'

const apps: Application[] = []
const sockets: Socket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect()
  await Promise.all(apps.splice(0).map((app) => app.shutdown()))
})

async function start(env: Record<string, string>): Promise<string> {
  const app = new Application({ loadConfig: false, envFile: false, env })
  apps.push(app)
  await app.boot()
  const channels = new ChannelRegistry()
  channels.channel('orders.{id}', (user, id) => String(user.id) === id)
  const kernel = createHttpKernel(app, { channels })
  const { port } = await kernel.listen(0, '127.0.0.1')
  return `http://127.0.0.1:${port}`
}

/** Opens a WebSocket like a page of `origin` would (none: a node client); resolves with 'connected' or the error's message. */
async function openSocket(base: string, origin?: string): Promise<string> {
  const socket = io(base, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(origin === undefined ? {} : { extraHeaders: { Origin: origin } }),
  })
  sockets.push(socket)
  return new Promise((resolve) => {
    socket.once('connect', () => resolve('connected'))
    socket.once('connect_error', (error) => resolve(`refused: ${error.message}`))
  })
}

/** The polling handshake, as a browser's first socket.io request. */
function pollingHandshake(base: string, origin: string): Promise<Response> {
  return fetch(`${base}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: origin } })
}

function authorize(base: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${base}/broadcasting/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer 1', ...headers },
    body: JSON.stringify({ channel_name: 'private-orders.1' }),
  })
}

const PRODUCTION = { APP_ENV: 'production', APP_URL: 'https://shop.example/store' }

describe('socket.io handshakes', () => {
  it("in production takes the page of APP_URL's origin and a client without Origin, and refuses any other origin", async () => {
    const base = await start(PRODUCTION)

    expect(await openSocket(base, 'https://shop.example')).toBe('connected')
    expect(await openSocket(base)).toBe('connected')
    for (const foreign of ['https://evil.example', 'http://shop.example', 'https://shop.example.evil.example', 'http://localhost:3000', 'null']) {
      expect(await openSocket(base, foreign)).toMatch(/^refused: /)
    }
  })

  it('refuses a polling handshake from a foreign origin with 403, and answers an allowed one with its CORS header', async () => {
    const base = await start(PRODUCTION)

    const foreign = await pollingHandshake(base, 'https://evil.example')
    expect(foreign.status).toBe(403)
    expect(await foreign.json()).toEqual({
      code: 4,
      message: 'Origin "https://evil.example" is not allowed to use broadcasting here: add it to BROADCAST_ALLOWED_ORIGINS (or set APP_URL to it).',
    })
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull()

    const own = await pollingHandshake(base, 'https://shop.example')
    expect(own.status).toBe(200)
    expect(own.headers.get('access-control-allow-origin')).toBe('https://shop.example')
    expect(own.headers.get('access-control-allow-credentials')).toBe('true')
    await own.body?.cancel()
  })

  it('in local (the default) takes localhost, 127.0.0.1 and [::1] on any port, and nothing that only looks like them', async () => {
    const base = await start({})

    for (const local of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://localhost', 'https://[::1]:3000']) {
      expect(await openSocket(base, local)).toBe('connected')
    }
    for (const foreign of ['http://localhost.evil.example', 'http://127.0.0.1.evil.example:80', 'https://evil.example']) {
      expect(await openSocket(base, foreign)).toMatch(/^refused: /)
    }
  })

  it('BROADCAST_ALLOWED_ORIGINS replaces the defaults: its origins and ports only', async () => {
    const base = await start({ ...PRODUCTION, APP_ENV: 'local', BROADCAST_ALLOWED_ORIGINS: 'https://app.example, http://dev.example:*' })

    expect(await openSocket(base, 'https://app.example')).toBe('connected')
    expect(await openSocket(base, 'http://dev.example:4000')).toBe('connected')
    expect(await openSocket(base, 'https://shop.example')).toMatch(/^refused: /)
    expect(await openSocket(base, 'http://localhost:5173')).toMatch(/^refused: /)
    expect(await openSocket(base, 'https://dev.example:4000')).toMatch(/^refused: /)
  })

  it('an entry that is not an origin is a one-line error naming the setting', async () => {
    const app = new Application({ loadConfig: false, envFile: false, env: { BROADCAST_ALLOWED_ORIGINS: 'shop.example' } })
    apps.push(app)
    await app.boot()
    expect(() => createHttpKernel(app, { channels: new ChannelRegistry() })).toThrow(
      'Allowed origin "shop.example" is not an origin: write scheme://host[:port] (https://shop.example.com), scheme://host:* for any port, or * (BROADCAST_ALLOWED_ORIGINS, APP_URL).',
    )
  })
})

describe('POST /broadcasting/auth', () => {
  it('answers a foreign Origin with 403 JSON before authorizing, and the own origin or no Origin as before', async () => {
    const base = await start(PRODUCTION)

    const foreign = await authorize(base, { origin: 'https://evil.example' })
    expect(foreign.status).toBe(403)
    expect(await foreign.json()).toEqual({
      message: 'Origin "https://evil.example" is not allowed to use broadcasting here: add it to BROADCAST_ALLOWED_ORIGINS (or set APP_URL to it).',
    })

    const own = await authorize(base, { origin: 'https://shop.example' })
    expect(own.status).toBe(200)
    expect(await own.json()).toEqual({})
    const withoutOrigin = await authorize(base, {})
    expect(withoutOrigin.status).toBe(200)
    // Still the channel's own answer for a user it denies, from an allowed page.
    const denied = await authorize(base, { origin: 'https://shop.example', authorization: 'Bearer 2' })
    expect(denied.status).toBe(403)
    expect(await denied.json()).toEqual({ message: 'User 2 may not subscribe to "private-orders.1".' })
  })

  it('answers a channel_name over the name limit with 414, as a socket would be', async () => {
    const base = await start(PRODUCTION)
    const response = await fetch(`${base}/broadcasting/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer 1' },
      body: JSON.stringify({ channel_name: `private-orders.${'1'.repeat(300)}` }),
    })
    expect(response.status).toBe(414)
    expect(await response.json()).toEqual({ message: 'channel_name has 315 characters, over the limit of 200 (BROADCAST_MAX_CHANNEL_NAME).' })
  })
})
