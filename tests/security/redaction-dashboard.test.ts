/**
 * The demo's dashboard feed as an attacker sees it, with real socket.io clients over loopback
 * against the demo application's web server (its app/channels.ts, its DashboardSubscriber):
 * a guest socket cannot subscribe to `private-dashboard` (no token, a forged one), and the old
 * public `dashboard` channel carries nothing; the operator's socket (the token the page
 * carries) gets every dispatch with `password`, `card_number` and `authorization` masked; and
 * `event:replay`'s re-dispatch broadcasts nothing, through any path.
 */
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Broadcast,
  Dispatchable,
  EventReplayer,
  PrivateChannel,
  ShouldBroadcastNow,
  bootApplication,
  createLogger,
  createMigrator,
  currentEventContext,
  setFacadeRoot,
  type Application,
} from 'herald'
import { createApplicationHttpKernel } from '../../src/http/http-kernel.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const SECRETS = ['hunter2-secret', '4242424242424242', 'Bearer tok_live_1234']

interface Received {
  readonly event: string
  readonly channel: string
  readonly data: { name?: string; payload?: unknown } & Record<string, unknown>
}

let database: FreshDatabase
let app: Application
let base: string
const sockets: Socket[] = []
const logged: string[] = []

beforeAll(async () => {
  database = await freshDatabase('sqlite')
  app = await bootApplication({
    basePath: root,
    envFile: false,
    env: {
      LOG_LEVEL: 'debug',
      DB_DATABASE: (database.connection as { filename: string }).filename,
      QUEUE_CONNECTION: 'sync',
      BROADCAST_CONNECTION: 'socketio',
      EVENTS_STORE_ENABLED: 'true',
      APP_KEY: randomBytes(32).toString('hex'),
    },
  })
  app.logger = createLogger('debug', (line) => logged.push(line))
  setFacadeRoot(app)
  await (await createMigrator(app)).latest()
  const kernel = await createApplicationHttpKernel(app)
  base = `http://127.0.0.1:${(await kernel.listen(0, '127.0.0.1')).port}`
})

afterAll(async () => {
  for (const socket of sockets) socket.disconnect()
  await app?.shutdown()
  await database?.drop()
})

/** A socket.io client as Echo's connector makes one, recording every event the server sends it. */
async function connect(): Promise<{ socket: Socket; received: Received[] }> {
  const socket = io(base, { transports: ['websocket'], reconnection: false, forceNew: true })
  sockets.push(socket)
  const received: Received[] = []
  socket.onAny((event: string, channel: string, data: Received['data']) => received.push({ event, channel, data }))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  return { socket, received }
}

/** The token the dashboard page hands its socket. */
async function pageToken(): Promise<string> {
  const html = await (await fetch(`${base}/`)).text()
  const token = /<meta name="broadcast-token" content="([^"]+)">/.exec(html)?.[1]
  if (token === undefined) throw new Error(`GET / carries no broadcast-token meta tag:\n${html.slice(0, 500)}`)
  return token
}

/** Dispatches a probe until `until` holds: subscriptions are authorized asynchronously. */
async function probeUntil(until: () => boolean): Promise<void> {
  let n = 0
  await expect
    .poll(
      async () => {
        if (!until()) await app.make('events').dispatch('dashboard.probe', { n: n++ })
        return until()
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBe(true)
}

const feedOf = (received: Received[], name: string) => received.filter((message) => message.event === 'event.dispatched' && message.data.name === name)

let operator: { socket: Socket; received: Received[] }

describe('the dashboard channel', () => {
  it('refuses a guest socket: no token, a forged token, a token for another user', async () => {
    const token = await pageToken()
    const [id, mac] = token.split('.') as [string, string]
    const attempts = [
      undefined,
      { headers: { Authorization: 'Bearer 1' } },
      { headers: { Authorization: `Bearer ${id}.${mac.replace(/^./, (c) => (c === '0' ? '1' : '0'))}` } },
      { headers: { Authorization: `Bearer 2.${mac}` } },
    ]
    for (const auth of attempts) {
      const { socket } = await connect()
      const refused = new Promise<[string, number]>((resolve) => socket.once('subscription_error', (channel: string, status: number) => resolve([channel, status])))
      socket.emit('subscribe', { channel: 'private-dashboard', ...(auth && { auth }) })
      expect(await refused).toEqual(['private-dashboard', 403])
    }
    // Nor through /broadcasting/auth.
    const response = await fetch(`${base}/broadcasting/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ socket_id: '1.1', channel_name: 'private-dashboard' }),
    })
    expect(response.status).toBe(403)
  })

  it("gives the operator's socket every dispatch, redacted; a guest on the old public channel gets nothing", async () => {
    const guest = await connect()
    guest.socket.emit('subscribe', { channel: 'dashboard' })
    guest.socket.emit('subscribe', { channel: 'orders' })
    operator = await connect()
    operator.socket.emit('subscribe', { channel: 'private-dashboard', auth: { headers: { Authorization: `Bearer ${await pageToken()}` } } })
    await probeUntil(() => feedOf(operator.received, 'dashboard.probe').length > 0)

    await app.make('events').dispatch('checkout.attempted', {
      sku: 'BOOK-1',
      password: 'hunter2-secret',
      card_number: '4242424242424242',
      headers: { authorization: 'Bearer tok_live_1234', accept: 'application/json' },
    })
    await expect.poll(() => feedOf(operator.received, 'checkout.attempted').length, { timeout: 10_000, interval: 20 }).toBe(1)
    const [message] = feedOf(operator.received, 'checkout.attempted')
    expect(message!.channel).toBe('private-dashboard')
    expect(message!.data.payload).toEqual({
      sku: 'BOOK-1',
      password: '[REDACTED]',
      card_number: '[REDACTED]',
      headers: { authorization: '[REDACTED]', accept: 'application/json' },
    })
    for (const secret of SECRETS) expect(JSON.stringify(operator.received)).not.toContain(secret)

    // Whatever the server sent this guest before this public sentinel has arrived with it.
    await probeGuest(guest)
    expect(guest.received.filter((entry) => entry.event !== 'sentinel')).toEqual([])
  })
})

/** Sends public sentinels on `orders` until the guest hears one. */
async function probeGuest(guest: { received: Received[] }): Promise<void> {
  await expect
    .poll(
      async () => {
        if (!guest.received.some((entry) => entry.event === 'sentinel')) await Broadcast.on('orders').as('sentinel').with({}).sendNow()
        return guest.received.some((entry) => entry.event === 'sentinel')
      },
      { timeout: 10_000, interval: 100 },
    )
    .toBe(true)
}

class ReplayProbe extends ShouldBroadcastNow(Dispatchable) {
  broadcastOn() {
    return [new PrivateChannel('dashboard')]
  }
}

describe('event:replay', () => {
  it('broadcasts nothing: not the dashboard feed, not a listener\'s anonymous or ShouldBroadcast broadcast', async () => {
    expect(operator, 'the previous test subscribed the operator').toBeDefined()
    // A listener that broadcasts every way there is, and notes whether it ran in a replay.
    const ranReplaying: boolean[] = []
    app.make('events').listen('checkout.attempted', async () => {
      ranReplaying.push(currentEventContext()?.replaying === true)
      await Broadcast.on(new PrivateChannel('dashboard')).as('replay.anonymous-now').with({}).sendNow()
      await Broadcast.on(new PrivateChannel('dashboard')).as('replay.anonymous-queued').with({}).send()
      await ReplayProbe.dispatch()
    })
    const before = operator.received.length

    const summary = await new EventReplayer(app.make('events.store'), app.make('events')).replay({ events: ['checkout.attempted'] })
    expect(summary).toMatchObject({ replayed: 1, failed: 0, skipped: 0 })
    expect(ranReplaying).toEqual([true])
    // Each dropped with a debug line: the feed's entries (for the replayed event and for the
    // ShouldBroadcast event its listener dispatched), both anonymous broadcasts, that event.
    const dropped = logged.flatMap((line) => /Broadcast "([^"]+)" dropped: nothing is broadcast while event:replay runs/.exec(line)?.[1] ?? [])
    expect(dropped.sort()).toEqual(['ReplayProbe', 'event.dispatched', 'event.dispatched', 'replay.anonymous-now', 'replay.anonymous-queued'])

    // A dispatch after the replay reaches the operator; nothing of the replay came before it.
    await app.make('events').dispatch('after.replay', {})
    await expect.poll(() => feedOf(operator.received, 'after.replay').length, { timeout: 10_000, interval: 20 }).toBe(1)
    // (Late probes of the subscription poll may still be arriving: they are not the replay's.)
    const since = operator.received.slice(before).filter((entry) => entry.data.name !== 'dashboard.probe')
    expect(since.map((entry) => entry.data.name ?? entry.event)).toEqual(['after.replay'])
  })

  it('records nothing on Broadcast.fake() either', async () => {
    using fake = Broadcast.fake()
    await new EventReplayer(app.make('events.store'), app.make('events')).replay({ events: ['checkout.attempted'] })
    fake.assertNothingBroadcast()
    // The fake itself works: the same listener outside a replay is recorded.
    await app.make('events').dispatch('checkout.attempted', { sku: 'BOOK-1' })
    fake.assertBroadcast('replay.anonymous-now')
  })
})
