/**
 * Broadcasting from the dispatcher to a delivery: the application's real manager, drivers and
 * queue (the sync connection), with a recorder attached as the process's socket.io server.
 */
import { AssertionError } from 'node:assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  Broadcast,
  Channel,
  Dispatchable,
  Event,
  PresenceChannel,
  PrivateChannel,
  Queue,
  ShouldBroadcast,
  ShouldBroadcastNow,
  ShouldDispatchAfterCommit,
  ShouldQueue,
  broadcast,
  createApplication,
  createLogger,
  setFacadeRoot,
  withSocketId,
  type Application,
  type BroadcastDelivery,
  type BroadcastMessage,
} from 'herald'
import { encodeBroadcastRequest, verifyBroadcastRequest } from '../../src/broadcasting/broadcast-signature.ts'
import { runInTransaction } from '../../src/database/transactions.ts'

/** The one stand-in of these tests: a socket.io server that records what it is asked to deliver. */
class RecordingDelivery implements BroadcastDelivery {
  readonly messages: BroadcastMessage[] = []
  async deliver(message: BroadcastMessage): Promise<void> {
    this.messages.push(message)
  }
}

class OrderShipped extends ShouldBroadcastNow(Dispatchable) {
  broadcastQueue = 'broadcasts'
  constructor(
    readonly orderId: number,
    readonly shippedAt: Date,
    readonly tags = new Set(['fragile']),
  ) {
    super()
  }
  broadcastOn() {
    return [new Channel('orders'), new PrivateChannel(`orders.${this.orderId}`), new PresenceChannel('warehouse')]
  }
  label() {
    return `order ${this.orderId}`
  }
}

class InvoicePaid extends ShouldBroadcastNow(Dispatchable) {
  static override readonly eventName = 'invoices.paid'
  constructor(
    readonly invoiceId: number,
    readonly amount: number,
  ) {
    super()
  }
  broadcastOn() {
    return new PrivateChannel(`invoices.${this.invoiceId}`)
  }
  broadcastAs() {
    return 'invoice.paid'
  }
  broadcastWith() {
    return { id: this.invoiceId, cents: BigInt(this.amount) * 100n }
  }
  broadcastWhen() {
    return this.amount > 0
  }
}

/** Queued: through the queue connection, on `broadcastQueue`. */
class StockChanged extends ShouldBroadcast(Dispatchable) {
  broadcastQueue = 'broadcasts'
  constructor(
    readonly sku: string,
    readonly level: number,
  ) {
    super()
  }
  broadcastOn() {
    return new Channel(`stock.${this.sku}`)
  }
}

const apps: Application[] = []
const dirs: string[] = []

afterEach(async () => {
  setFacadeRoot(null)
  await Promise.allSettled(apps.splice(0).map((app) => app.shutdown()))
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A booted application (sync queue, no discovery, an empty project) with a recorder as its socket.io server. */
async function boot(env: Record<string, string> = {}) {
  const basePath = mkdtempSync(join(tmpdir(), 'herald-broadcast-'))
  dirs.push(basePath)
  const app = createApplication({
    basePath,
    loadConfig: false,
    envFile: false,
    env: {
      EVENTS_DISCOVERY: 'false',
      QUEUE_CONNECTION: 'sync',
      BROADCAST_CONNECTION: 'socketio',
      LOG_LEVEL: 'silent',
      // Where a failed job's record would go (there is no failed_jobs table: the runner logs that, silently).
      DB_DATABASE: join(basePath, 'database.sqlite'),
      ...env,
    },
  })
  apps.push(app)
  await app.boot()
  const server = new RecordingDelivery()
  const manager = app.make('broadcast')
  manager.attachServer(server)
  return { app, events: app.make('events'), manager, server }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

describe('broadcasting a dispatched event', () => {
  it('ShouldBroadcastNow delivers during the dispatch: wire channel names, the event name, its public data as JSON', async () => {
    const { events, server } = await boot()
    const seen: number[] = []
    events.listen(OrderShipped, (event) => void seen.push(event.orderId))

    await events.dispatch(new OrderShipped(7, new Date('2026-11-24T10:00:00.000Z')))

    expect(seen).toEqual([7])
    expect(server.messages).toEqual([
      {
        channels: ['orders', 'private-orders.7', 'presence-warehouse'],
        event: 'OrderShipped',
        // Dates as ISO strings, Sets as lists; methods and broadcastQueue are not data.
        data: { orderId: 7, shippedAt: '2026-11-24T10:00:00.000Z', tags: ['fragile'] },
      },
    ])
  })

  it('uses broadcastAs, broadcastWith (made JSON-safe) and broadcastWhen', async () => {
    const { events, server } = await boot()
    const seen: number[] = []
    events.listen('invoices.paid', (event) => void seen.push((event as InvoicePaid).invoiceId))

    await events.dispatch(new InvoicePaid(3, 25))
    await events.dispatch(new InvoicePaid(4, 0))

    expect(seen).toEqual([3, 4])
    expect(server.messages).toEqual([{ channels: ['private-invoices.3'], event: 'invoice.paid', data: { id: 3, cents: '2500' } }])
  })

  it('ShouldBroadcast goes through the queue connection, whose job delivers it', async () => {
    const { events, server, manager, app } = await boot()
    await events.dispatch(new StockChanged('A-1', 4))
    expect(server.messages).toEqual([{ channels: ['stock.A-1'], event: 'StockChanged', data: { sku: 'A-1', level: 4 } }])

    // The job a worker gets: pushed on broadcastQueue, and turned into a deliver() by the runner.
    setFacadeRoot(app)
    const fake = Queue.fake()
    await events.dispatch(new StockChanged('B-2', 9))
    fake.restore()
    expect(server.messages).toHaveLength(1)
    const [job] = fake.pushed
    expect(job?.queue).toBe('broadcasts')
    expect(job?.target).toBe(StockChanged)
    expect(job?.envelope.job).toBe('broadcast')

    const outcome = await app.make('queue').runner('sync').process({ id: '1', queue: 'broadcasts', payload: JSON.stringify(job!.envelope), attempts: 1 })
    expect(outcome).toEqual({ kind: 'done' })
    expect(server.messages[1]).toEqual({ channels: ['stock.B-2'], event: 'StockChanged', data: { sku: 'B-2', level: 9 } })
    expect(manager.localServer).toBe(server)
  })

  it('a broadcast job in a process without broadcasting fails at once, with the reason', async () => {
    const { app, events } = await boot()
    setFacadeRoot(app)
    const fake = Queue.fake()
    await events.dispatch(new StockChanged('C-3', 1))
    fake.restore()
    const envelope = { ...fake.pushed[0]!.envelope, data: { event: 'StockChanged', payload: { nothing: true } } }
    const outcome = await app.make('queue').runner('sync').process({ id: '2', queue: 'broadcasts', payload: JSON.stringify(envelope), attempts: 1 })
    expect(outcome.kind).toBe('failed')
    expect(message((outcome as { error: unknown }).error)).toBe('Broadcast job StockChanged carries no broadcast message (channels, event, data).')
  })

  it('toOthers() leaves out the socket of the current request, also through the queue', async () => {
    const { app, server } = await boot()
    setFacadeRoot(app)

    await withSocketId('socket-A1', () => broadcast(new StockChanged('A-1', 1)).toOthers())
    await withSocketId('socket-A1', () => broadcast(new OrderShipped(1, new Date(0))).toOthers())
    await withSocketId('socket-A1', () => broadcast(new OrderShipped(2, new Date(0))))
    await broadcast(new OrderShipped(3, new Date(0))).toOthers()
    await withSocketId('not a socket id!', () => broadcast(new OrderShipped(4, new Date(0))).toOthers())

    expect(server.messages.map((m) => [m.channels[0], m.except ?? null])).toEqual([
      ['stock.A-1', 'socket-A1'],
      ['orders', 'socket-A1'],
      ['orders', null],
      ['orders', null],
      ['orders', null],
    ])
    expect(() => broadcast({ plain: true })).toThrow('broadcast(Object): the event is not a broadcast event')
  })

  it('broadcast() dispatches even when nobody awaits it', async () => {
    const { app, server } = await boot()
    setFacadeRoot(app)
    void broadcast(new OrderShipped(5, new Date(0)))
    await app.make('events').settled()
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(server.messages.map((m) => m.data.orderId)).toEqual([5])
  })

  it('an event faked by Event.fake() is neither run nor broadcast nor queued', async () => {
    const { app, events, server } = await boot()
    setFacadeRoot(app)
    const ran: number[] = []
    events.listen(OrderShipped, (event) => void ran.push(event.orderId))
    const queued = Queue.fake()
    {
      using fake = Event.fake()
      await events.dispatch(new OrderShipped(1, new Date(0)))
      await events.dispatch(new StockChanged('A', 1))
      fake.assertDispatched(OrderShipped)
    }
    queued.assertNothingPushed()
    queued.restore()
    expect(ran).toEqual([])
    expect(server.messages).toEqual([])
    // Faking another event lets this one through.
    Event.fake(['SomethingElse'])
    await events.dispatch(new OrderShipped(2, new Date(0)))
    expect(ran).toEqual([2])
    expect(server.messages).toHaveLength(1)
  })

  it('a failing broadcast rejects the dispatch once the listeners have run', async () => {
    const { events } = await boot()
    class Broken extends ShouldBroadcastNow(Dispatchable) {
      broadcastOn(): Channel {
        throw new Error('no channel today')
      }
    }
    const ran: string[] = []
    events.listen(Broken, () => void ran.push('listener'))
    await expect(events.dispatch(new Broken())).rejects.toThrow('no channel today')
    expect(ran).toEqual(['listener'])

    events.listen(Broken, () => {
      throw new Error('listener down')
    })
    const error = await events.dispatch(new Broken()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AggregateError)
    expect(message(error)).toBe('Broadcasting and the listeners of event "Broken" failed')
    expect((error as AggregateError).errors.map(message)).toEqual(['no channel today', '1 listener failed for event "Broken": Closure (listener down)'])
  })

  it('a ShouldDispatchAfterCommit broadcast waits for the commit and is dropped on rollback; defer holds it too', async () => {
    const { events, server } = await boot()
    class Committed extends ShouldBroadcastNow(ShouldDispatchAfterCommit(Dispatchable)) {
      constructor(readonly id: number) {
        super()
      }
      broadcastOn() {
        return new Channel('commits')
      }
    }
    const begin = <T>(body: (trx: null) => Promise<T>) => body(null)
    await runInTransaction(begin, async () => {
      await events.dispatch(new Committed(1))
      expect(server.messages).toEqual([])
    })
    expect(server.messages.map((m) => m.data)).toEqual([{ id: 1 }])
    await runInTransaction(begin, async () => {
      await events.dispatch(new Committed(2))
      throw new Error('rolled back')
    }).catch(() => undefined)
    expect(server.messages).toHaveLength(1)

    await events.defer(async () => {
      await events.dispatch(new Committed(3))
      expect(server.messages).toHaveLength(1)
    })
    expect(server.messages.map((m) => m.data)).toEqual([{ id: 1 }, { id: 3 }])
  })

  it('a ShouldQueue broadcast event is broadcast once: at dispatch, not again by the worker', async () => {
    const { events, server } = await boot()
    class Queued extends ShouldQueue(ShouldBroadcastNow(Dispatchable)) {
      constructor(readonly id: number) {
        super()
      }
      broadcastOn() {
        return new Channel('queued')
      }
    }
    const ran: number[] = []
    events.listen(Queued, (event) => void ran.push(event.id))
    await events.dispatch(new Queued(1))
    expect(ran).toEqual([1])
    expect(server.messages.map((m) => m.data)).toEqual([{ id: 1 }])
  })
})

describe('anonymous broadcasts: Broadcast.on(...)', () => {
  it('sendNow() delivers a message with no event class: channels, name, data, JSON-safe', async () => {
    const { app, server } = await boot()
    setFacadeRoot(app)
    await Broadcast.on('orders', new PrivateChannel('orders.7')).as('OrderShipped').with({ id: 7, at: new Date('2026-11-24T10:00:00.000Z') }).sendNow()
    await Broadcast.on([new Channel('stock')]).sendNow()
    expect(server.messages).toEqual([
      { channels: ['orders', 'private-orders.7'], event: 'OrderShipped', data: { id: 7, at: '2026-11-24T10:00:00.000Z' } },
      { channels: ['stock'], event: 'AnonymousEvent', data: {} },
    ])
  })

  it('send() goes through the queue; toOthers() leaves the request socket out; the fake records it by name', async () => {
    const { app, server } = await boot()
    setFacadeRoot(app)
    const queue = Queue.fake()
    await withSocketId('socket-1', () => Broadcast.on('orders').as('Queued').with({ n: 1 }).toOthers().send())
    queue.restore()
    expect(server.messages).toEqual([])
    expect(queue.pushed.map((job) => [job.envelope.job, job.envelope.displayName])).toEqual([['broadcast', 'Queued']])
    expect((queue.pushed[0]!.envelope.data as { payload: BroadcastMessage }).payload).toEqual({ channels: ['orders'], event: 'Queued', data: { n: 1 }, except: 'socket-1' })

    using fake = Broadcast.fake()
    await Broadcast.on('dashboard').as('job.processed').with({ id: '3' }).sendNow()
    fake.assertBroadcast('job.processed', 'dashboard', (data: { id: string }) => data.id === '3')
    expect(server.messages).toEqual([])
  })
})

describe('the drivers, by BROADCAST_CONNECTION', () => {
  it('log writes one line per broadcast through the application logger', async () => {
    const { app, events, manager } = await boot({ BROADCAST_CONNECTION: 'log' })
    setFacadeRoot(app)
    const lines: string[] = []
    app.logger = createLogger('info', (line) => lines.push(line))
    await withSocketId('s1', () => broadcast(new InvoicePaid(9, 1)).toOthers())
    await events.dispatch(new OrderShipped(2, new Date('2026-01-01T00:00:00Z')))
    expect(lines).toEqual([
      '[info] Broadcasting [invoice.paid] on channels [private-invoices.9] except socket s1 with payload: {"id":9,"cents":"100"}',
      '[info] Broadcasting [OrderShipped] on channels [orders, private-orders.2, presence-warehouse] with payload: {"orderId":2,"shippedAt":"2026-01-01T00:00:00.000Z","tags":["fragile"]}',
    ])
    // The log driver ignores the attached server: it is not a delivery to clients.
    expect((manager.localServer as RecordingDelivery).messages).toEqual([])
  })

  it('null delivers nothing, and fails nothing', async () => {
    const { events, server } = await boot({ BROADCAST_CONNECTION: 'null' })
    await events.dispatch(new OrderShipped(1, new Date(0)))
    expect(server.messages).toEqual([])
  })

  it('socketio without a server in the process and without APP_KEY says what to set, in one line', async () => {
    const { events, manager } = await boot()
    manager.attachServer(new RecordingDelivery())()
    const error = await events.dispatch(new OrderShipped(1, new Date(0))).catch((e: unknown) => e)
    expect(message(error)).toMatch(/^APP_KEY is not set: .*set APP_KEY in \.env/)
    expect(message(error)).not.toContain('\n')
  })

  it('socketio without a reachable web server names the address to check', async () => {
    const { events, manager } = await boot({ APP_KEY: 'k', BROADCAST_SERVER_URL: 'http://127.0.0.1:9' })
    manager.attachServer(new RecordingDelivery())()
    await expect(events.dispatch(new OrderShipped(1, new Date(0)))).rejects.toThrow(
      /^Broadcasting "OrderShipped" to http:\/\/127\.0\.0\.1:9\/_herald\/broadcast failed \(.+\): is the web server running at BROADCAST_SERVER_URL\?$/,
    )
  })

  it('an unknown connection lists the configured ones', async () => {
    const { events } = await boot({ BROADCAST_CONNECTION: 'pusher' })
    await expect(events.dispatch(new OrderShipped(1, new Date(0)))).rejects.toThrow(
      'Broadcast connection "pusher" is not configured in config/broadcasting.ts (known: socketio, redis, log, null).',
    )
  })
})

describe('the signed cross-process request', () => {
  const sent: BroadcastMessage = { channels: ['orders'], event: 'OrderShipped', data: { id: 1 }, except: 'abc' }

  it('verifies with the same key and returns the message', () => {
    const { body, signature } = encodeBroadcastRequest(sent, 'secret')
    expect(verifyBroadcastRequest(Buffer.from(body), signature, 'secret')).toEqual(sent)
  })

  it('refuses another key, a changed body, a missing signature and an old request with 403', () => {
    const { body, signature } = encodeBroadcastRequest(sent, 'secret', 1_000_000)
    const status = (fn: () => unknown) => {
      try {
        fn()
        return 'accepted'
      } catch (error) {
        return (error as { status?: number }).status
      }
    }
    expect(status(() => verifyBroadcastRequest(body, signature, 'other', 1_000_000))).toBe(403)
    expect(status(() => verifyBroadcastRequest(body.replace('orders', 'orderz'), signature, 'secret', 1_000_000))).toBe(403)
    expect(status(() => verifyBroadcastRequest(body, undefined, 'secret', 1_000_000))).toBe(403)
    expect(status(() => verifyBroadcastRequest(body, signature, 'secret', 1_000_000 + 6 * 60_000))).toBe(403)
    expect(status(() => verifyBroadcastRequest(body, signature, 'secret', 1_000_000 + 60_000))).toBe('accepted')
  })
})

describe('Broadcast.fake()', () => {
  it('records broadcasts instead of delivering or queueing them; listeners still run', async () => {
    const { app, events, server } = await boot()
    setFacadeRoot(app)
    const ran: number[] = []
    events.listen(OrderShipped, (event) => void ran.push(event.orderId))
    const queued = Queue.fake()
    using fake = Broadcast.fake()

    await events.dispatch(new OrderShipped(1, new Date(0)))
    await events.dispatch(new StockChanged('A', 2))
    await events.dispatch(new InvoicePaid(5, 0))

    expect(ran).toEqual([1])
    expect(server.messages).toEqual([])
    queued.assertNothingPushed()
    queued.restore()
    Broadcast.assertBroadcast(OrderShipped)
    Broadcast.assertBroadcast(OrderShipped, new PrivateChannel('orders.1'))
    Broadcast.assertBroadcast(OrderShipped, 'presence-warehouse', (event: OrderShipped) => event.orderId === 1)
    Broadcast.assertBroadcast(OrderShipped, (event: OrderShipped, recorded) => recorded.message.data.orderId === event.orderId)
    Broadcast.assertBroadcast('StockChanged', 'stock.A')
    Broadcast.assertBroadcastTimes(StockChanged, 1)
    // broadcastWhen() said no.
    Broadcast.assertNotBroadcast(InvoicePaid)
    Broadcast.assertNotBroadcast(OrderShipped, new PrivateChannel('orders.2'))
    expect(fake.recorded).toHaveLength(2)
  })

  it('matches broadcastAs names and toOthers sockets', async () => {
    const { app } = await boot()
    setFacadeRoot(app)
    using fake = Broadcast.fake()
    await withSocketId('tab-1', () => broadcast(new InvoicePaid(1, 3)).toOthers())
    Broadcast.assertBroadcast('invoice.paid', 'private-invoices.1', (_e, recorded) => recorded.message.except === 'tab-1')
    Broadcast.assertBroadcast('invoices.paid')
    expect(fake.broadcasts(InvoicePaid)[0]?.message.data).toEqual({ id: 1, cents: '300' })
  })

  it('fails with an AssertionError that lists what was broadcast', async () => {
    const { app, events } = await boot()
    setFacadeRoot(app)
    using _fake = Broadcast.fake()
    await withSocketId('tab-9', () => broadcast(new InvoicePaid(2, 1)).toOthers())
    await events.dispatch(new OrderShipped(3, new Date('2026-05-01T00:00:00Z')))

    const thrown = (fn: () => void) => {
      try {
        fn()
      } catch (error) {
        expect(error).toBeInstanceOf(AssertionError)
        return message(error)
      }
      throw new Error('the assertion passed')
    }
    const list = [
      'Broadcasts (2):',
      '  - invoices.paid as "invoice.paid" on [private-invoices.2] { id: 2, cents: \'100\' } (except socket tab-9)',
      "  - OrderShipped on [orders, private-orders.3, presence-warehouse] { orderId: 3, shippedAt: '2026-05-01T00:00:00.000Z', tags: [ 'fragile' ] }",
    ].join('\n')
    expect(thrown(() => Broadcast.assertBroadcast(StockChanged))).toBe(`Expected "StockChanged" to be broadcast. It was not broadcast.\n${list}`)
    expect(thrown(() => Broadcast.assertBroadcast(OrderShipped, new PrivateChannel('orders.4')))).toBe(
      `Expected "OrderShipped" to be broadcast on "private-orders.4". It was broadcast 1 time(s), never on "private-orders.4".\n${list}`,
    )
    expect(thrown(() => Broadcast.assertBroadcast(OrderShipped, 'orders', (e: OrderShipped) => e.orderId === 4))).toBe(
      `Expected "OrderShipped" to be broadcast on "orders" matching the predicate. It was broadcast 1 time(s), none passed the predicate.\n${list}`,
    )
    expect(thrown(() => Broadcast.assertNotBroadcast(OrderShipped, 'orders'))).toBe(
      `Expected "OrderShipped" not to be broadcast on "orders", but it was broadcast 1 time(s).\n${list}`,
    )
    expect(thrown(() => Broadcast.assertNothingBroadcast())).toBe(`Expected nothing to be broadcast, but 2 broadcast(s) were made.\n${list}`)
    expect(thrown(() => Broadcast.assertBroadcastTimes(OrderShipped, 2))).toBe(
      `Expected "OrderShipped" to be broadcast 2 time(s), but it was broadcast 1 time(s).\n${list}`,
    )
  })

  it('assertNothingBroadcast passes on a quiet test and says so when it fails empty-handed', async () => {
    const { app } = await boot()
    setFacadeRoot(app)
    using _fake = Broadcast.fake()
    Broadcast.assertNothingBroadcast()
    expect(() => Broadcast.assertBroadcast(OrderShipped)).toThrow('Expected "OrderShipped" to be broadcast. It was not broadcast.\nNothing was broadcast.')
  })

  it('works in the bare application behind the facades, and is gone after restore()', async () => {
    setFacadeRoot(null)
    const fake = Broadcast.fake()
    await Event.dispatch(new OrderShipped(1, new Date(0)))
    Broadcast.assertBroadcast(OrderShipped, 'orders')
    fake.restore()
    expect(() => Broadcast.assertNothingBroadcast()).toThrow('Broadcast.assertNothingBroadcast() needs a fake: call Broadcast.fake() first.')
    // Unbooted: no broadcasting at all (no APP_KEY error from the socketio connection), listeners only.
    await expect(Event.dispatch(new OrderShipped(2, new Date(0)))).resolves.toEqual([])
  })
})
