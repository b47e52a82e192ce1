/**
 * The event bus on Redis Streams, against the real Redis: consumer groups share a service's
 * events and give every service each one; a consumer killed with SIGKILL while it holds events
 * has them re-claimed by another (XAUTOCLAIM), none lost; a second delivery of an event id is
 * skipped; SIGTERM finishes the event in hand and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../src/foundation/logger.ts'
import { EventBusManager } from '../../src/event-bus/event-bus-manager.ts'
import { RedisStreamsDriver } from '../../src/event-bus/drivers/redis-streams-driver.ts'
import { Dispatchable, ShouldPublish } from 'herald'
import { REDIS_URL, dropPrefix, redisBusConfig, uniquePrefix } from '../support/event-bus-redis.ts'

class ItemSold extends ShouldPublish(Dispatchable) {
  constructor(
    readonly n: number,
    readonly at: Date,
  ) {
    super()
  }
}

const logger = createLogger('error')
const cleanups: Array<() => Promise<void>> = []
const children: ChildProcess[] = []

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A manager that consumes until the test ends; resolves once its groups exist. */
async function consumer(bus: EventBusManager): Promise<void> {
  const stop = new AbortController()
  let ready!: () => void
  const isReady = new Promise<void>((resolve) => (ready = resolve))
  const working = bus.work({ signal: stop.signal, onReady: ready })
  cleanups.push(async () => {
    stop.abort()
    await working
    await bus.close()
  })
  await Promise.race([isReady, working])
}

function manager(service: string, prefix: string): EventBusManager {
  const bus = new EventBusManager({ config: redisBusConfig(service, prefix), logger })
  return bus
}

interface Child {
  readonly process: ChildProcess
  readonly lines: string[]
  waitFor(predicate: (line: string) => boolean): Promise<string>
}

function spawnConsumer(prefix: string, service: string, handlerMs: number): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/event-bus-consumer-process.ts', REDIS_URL, prefix, service, String(handlerMs), '1000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const lines: string[] = []
  const waiters: Array<{ predicate: (line: string) => boolean; resolve: (line: string) => void }> = []
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line)
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(line)
      }
    }
  })
  return {
    process: child,
    lines,
    waitFor: (predicate) => {
      const seen = lines.find(predicate)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        waiters.push({ predicate, resolve })
        child.once('exit', (code, signal) => reject(new Error(`consumer exited (${code ?? signal}) before the line; saw: ${lines.join(' | ')}`)))
      })
    },
  }
}

describe('the event bus on Redis Streams', () => {
  it('shares a service’s events between its consumers and gives another service every event', async () => {
    const prefix = uniquePrefix()
    cleanups.push(() => dropPrefix(prefix))
    const got = { a1: [] as number[], a2: [] as number[], b: [] as number[] }
    const slow = () => new Promise((resolve) => setTimeout(resolve, 5))
    const a1 = manager('billing', prefix)
    const a2 = manager('billing', prefix)
    const b = manager('shipping', prefix)
    a1.subscribe(ItemSold, async (event) => {
      got.a1.push(event.n)
      await slow()
    })
    a2.subscribe(ItemSold, async (event) => {
      got.a2.push(event.n)
      await slow()
    })
    b.subscribe(ItemSold, (event) => {
      expect(event).toBeInstanceOf(ItemSold)
      expect(event.at).toBeInstanceOf(Date)
      got.b.push(event.n)
    })
    await Promise.all([consumer(a1), consumer(a2), consumer(b)])
    const publisher = manager('shop', prefix)
    cleanups.push(() => publisher.close())
    for (let n = 0; n < 40; n++) await publisher.publish(new ItemSold(n, new Date()))
    const all = Array.from({ length: 40 }, (_, n) => n)
    await vi.waitFor(() => expect(got.a1.length + got.a2.length).toBe(40), { timeout: 20_000, interval: 20 })
    await vi.waitFor(() => expect(got.b.length).toBe(40), { timeout: 20_000, interval: 20 })
    expect([...got.a1, ...got.a2].sort((x, y) => x - y)).toEqual(all)
    expect(got.a1.length).toBeGreaterThan(0)
    expect(got.a2.length).toBeGreaterThan(0)
    expect(got.b).toEqual(all)

    const status = await publisher.status()
    const groups = status.filter((row) => row.stream === `${prefix}ItemSold`).map((row) => row.group).sort()
    expect(groups).toEqual(['billing', 'shipping'])
    await vi.waitFor(async () => expect((await publisher.status()).every((row) => row.pending === 0 && row.lag === 0)).toBe(true), { timeout: 10_000 })
  })

  it('runs an event id once when two copies of it arrive in one batch', async () => {
    const prefix = uniquePrefix()
    cleanups.push(() => dropPrefix(prefix))
    // The group exists (a first consumer made it and stopped) before the copies are published.
    const before = manager('audit', prefix)
    before.subscribe('bus.copy', () => undefined)
    const stop = new AbortController()
    let ready!: () => void
    const isReady = new Promise<void>((resolve) => (ready = resolve))
    const working = before.work({ signal: stop.signal, onReady: ready })
    await isReady
    stop.abort()
    await working
    await before.close()
    const driver = new RedisStreamsDriver({ ...redisBusConfig('shop', prefix).redis, dedupTtl: 600, logger })
    cleanups.push(() => driver.close())
    const copy = (id: string, n: number) => ({ id, name: 'bus.copy', payload: JSON.stringify({ n }), publishedAt: Date.now(), source: 'shop' })
    // The reader's batch is 2: the two copies of 1 come in one read, 2 in the next.
    await driver.publish([copy('01J0COPYONE', 1), copy('01J0COPYONE', 1), copy('01J0COPYTWO', 2)])
    const runs: number[] = []
    const after = manager('audit', prefix)
    after.subscribe('bus.copy', (event) => void runs.push((event as { n: number }).n))
    await consumer(after)
    await vi.waitFor(async () => expect((await after.status()).map((row) => [row.group, row.pending, row.lag])).toEqual([['audit', 0, 0]]), { timeout: 10_000, interval: 20 })
    expect(runs).toEqual([1, 2])
  })

  it('gives a fanout subscription to every process of the service', async () => {
    const prefix = uniquePrefix()
    cleanups.push(() => dropPrefix(prefix))
    const got: string[] = []
    const p1 = manager('web', prefix)
    const p2 = manager('web', prefix)
    p1.subscribe('cache.flush', () => void got.push('p1'), { fanout: true })
    p2.subscribe('cache.flush', () => void got.push('p2'), { fanout: true })
    await Promise.all([consumer(p1), consumer(p2)])
    await p1.publish('cache.flush', { key: 'prices' })
    await vi.waitFor(() => expect(got.sort()).toEqual(['p1', 'p2']), { timeout: 10_000, interval: 20 })
  })

  it('creates its group again when the stream is deleted (Redis restarted empty) and goes on receiving', async () => {
    const prefix = uniquePrefix()
    cleanups.push(() => dropPrefix(prefix))
    const redis = new Redis(REDIS_URL)
    cleanups.push(async () => void (await redis.quit()))
    const got: number[] = []
    const bus = manager('audit', prefix)
    bus.subscribe('ledger.entry', (event) => void got.push((event as { n: number }).n))
    await consumer(bus)
    await bus.publish('ledger.entry', { n: 1 })
    await vi.waitFor(() => expect(got).toEqual([1]), { timeout: 10_000, interval: 20 })
    await redis.del(`${prefix}ledger.entry`)
    await vi.waitFor(async () => expect(((await redis.xinfo('GROUPS', `${prefix}ledger.entry`).catch(() => [])) as unknown[]).length).toBe(1), { timeout: 10_000, interval: 20 })
    await bus.publish('ledger.entry', { n: 2 })
    await vi.waitFor(() => expect(got).toEqual([1, 2]), { timeout: 10_000, interval: 20 })
  })

  it('re-claims the events of a consumer killed mid-batch: none lost, a second delivery of an id skipped', async () => {
    const prefix = uniquePrefix()
    cleanups.push(() => dropPrefix(prefix))
    const redis = new Redis(REDIS_URL)
    cleanups.push(async () => void (await redis.quit()))
    const first = spawnConsumer(prefix, 'workers', 150)
    await first.waitFor((line) => line === 'ready')
    const publisher = manager('shop', prefix)
    cleanups.push(() => publisher.close())
    const ids: string[] = []
    for (let n = 0; n < 12; n++) ids.push(await publisher.publish('bus.job', { n }))
    // Mid-batch: it has read a batch of 5 and is inside the first handler.
    await first.waitFor((line) => line.startsWith('start '))
    first.process.kill('SIGKILL')
    await new Promise((resolve) => first.process.once('exit', resolve))
    // It finished none: what it had read is pending with it, and only a claim can deliver it.
    expect(first.lines.filter((line) => line.startsWith('done '))).toEqual([])

    const second = spawnConsumer(prefix, 'workers', 5)
    await second.waitFor((line) => line === 'ready')
    // The same events again, as an outbox relayed twice would send them: same ids, new entries.
    const driver = new RedisStreamsDriver({ ...redisBusConfig('shop', prefix).redis, dedupTtl: 600, logger })
    cleanups.push(() => driver.close())
    await driver.publish(ids.map((id, n) => ({ id, name: 'bus.job', payload: JSON.stringify({ n }), publishedAt: Date.now(), source: 'shop' })))

    const all = Array.from({ length: 12 }, (_, n) => String(n))
    await vi.waitFor(async () => expect(new Set(await redis.lrange(`${prefix}done`, 0, -1)).size).toBe(12), { timeout: 25_000, interval: 50 })
    // Every copy settled: nothing pending, nothing left to read.
    await vi.waitFor(async () => expect((await publisher.status()).map((row) => [row.group, row.pending, row.lag])).toEqual([['workers', 0, 0]]), { timeout: 15_000, interval: 50 })
    const done = await redis.lrange(`${prefix}done`, 0, -1)
    expect(done.sort((x, y) => Number(x) - Number(y))).toEqual(all)

    second.process.kill('SIGTERM')
    const code = await new Promise((resolve) => second.process.once('exit', (exit) => resolve(exit)))
    expect(code).toBe(0)
    expect(second.lines.at(-1)).toBe('stopped')
  })

  it('three processes, two of one service and one of another, receive exactly what they should', async () => {
    const prefix = uniquePrefix()
    cleanups.push(() => dropPrefix(prefix))
    const redis = new Redis(REDIS_URL)
    cleanups.push(async () => void (await redis.quit()))
    const [first, second, ledger] = [spawnConsumer(prefix, 'orders', 50), spawnConsumer(prefix, 'orders', 50), spawnConsumer(prefix, 'ledger', 5)]
    await Promise.all([first, second, ledger].map((child) => child.waitFor((line) => line === 'ready')))
    const publisher = manager('shop', prefix)
    cleanups.push(() => publisher.close())
    for (let n = 0; n < 20; n++) await publisher.publish('bus.job', { n })

    const got = async (service: string) => (await redis.lrange(`${prefix}got:${service}`, 0, -1)).map((entry) => entry.split('@').map(Number) as [number, number])
    await vi.waitFor(async () => expect([(await got('orders')).length, (await got('ledger')).length]).toEqual([20, 20]), { timeout: 20_000, interval: 50 })
    await vi.waitFor(async () => expect((await publisher.status()).map((row) => [row.group, row.pending, row.lag]).sort()).toEqual([['ledger', 0, 0], ['orders', 0, 0]]), { timeout: 10_000, interval: 50 })
    const all = Array.from({ length: 20 }, (_, n) => n)
    const orders = await got('orders')
    // The service got each event once, shared between its two processes.
    expect(orders.map(([n]) => n).sort((x, y) => x - y)).toEqual(all)
    expect(new Set(orders.map(([, pid]) => pid))).toEqual(new Set([first.process.pid, second.process.pid]))
    // The other service got every event, in its one process.
    const other = await got('ledger')
    expect(other.map(([n]) => n).sort((x, y) => x - y)).toEqual(all)
    expect(new Set(other.map(([, pid]) => pid))).toEqual(new Set([ledger.process.pid]))
  })
})
