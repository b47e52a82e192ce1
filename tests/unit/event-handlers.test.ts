/**
 * The ready-made LogSubscriber and JsonLinesSubscriber, on real files in a temp folder and
 * through the application's logger. (WebhookListener, which needs a queue and an HTTP server,
 * is in tests/integration/webhook-listener.test.ts.)
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Dispatchable, Dispatcher, JsonLinesSubscriber, LogSubscriber, createApplication, createLogger, createRedactor, type Application } from 'herald'

class UserSignedUp extends Dispatchable {
  constructor(
    readonly email: string,
    readonly password: string,
    readonly visits = 3n,
  ) {
    super()
  }
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/
const folders: string[] = []
const apps: Application[] = []

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-handlers-'))
  folders.push(dir)
  return dir
}

function lines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

async function boot(env: Record<string, string>): Promise<Application> {
  const app = createApplication({ envFile: false, loadConfig: false, env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'info', ...env } })
  apps.push(app)
  await app.boot()
  return app
}

afterEach(async () => {
  for (const app of apps.splice(0)) await app.shutdown()
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('LogSubscriber (EVENTS_LOG_ENABLED)', () => {
  it('logs one line per event through the app logger: name, id, redacted payload JSON', async () => {
    const app = await boot({ EVENTS_LOG_ENABLED: 'true' })
    const logged: string[] = []
    app.logger = createLogger('info', (line) => logged.push(line))
    const events = app.make('events')

    await events.dispatch(new UserSignedUp('ada@example.test', 'hunter2'))
    await events.dispatch('orders.shipped', { orderId: 7, tracking: new Set(['A1']), api_key: 'k' })

    expect(logged).toHaveLength(2)
    const [signup, shipped] = logged.map((line) => /^\[info\] event (\S+) (\S+) (.*)$/.exec(line)!)
    expect(signup!.slice(1, 2)).toEqual(['UserSignedUp'])
    expect(signup![2]).toMatch(ULID)
    expect(JSON.parse(signup![3]!)).toEqual({ email: 'ada@example.test', password: '[REDACTED]', visits: '3' })
    expect(shipped![1]).toBe('orders.shipped')
    expect(JSON.parse(shipped![3]!)).toEqual({ orderId: 7, tracking: ['A1'], api_key: '[REDACTED]' })
    expect(shipped![2]).not.toBe(signup![2])
  })

  it('is off by default, and listed as a wildcard listener when on', async () => {
    const off = await boot({})
    expect(off.make('events').hasWildcardListeners('anything')).toBe(false)
    const on = await boot({ EVENTS_LOG_ENABLED: 'true' })
    expect(on.make('events').getListeners('anything').map((listener) => [listener.name, listener.event])).toEqual([['LogSubscriber', '*']])
  })

  it('runs before listeners that halt the dispatch', async () => {
    const events = new Dispatcher()
    const logged: string[] = []
    events.subscribe(new LogSubscriber(() => createLogger('info', (line) => logged.push(line)), createRedactor([])))
    events.listen('ping', () => false)
    await events.dispatch('ping', 1)
    expect(logged).toEqual(['[info] event ping 1'])
  })
})

describe('JsonLinesSubscriber (EVENTS_JSONL_PATH)', () => {
  it('buffers the lines and writes them on application shutdown', async () => {
    const path = join(folder(), 'logs', 'events.jsonl')
    const app = await boot({ EVENTS_JSONL_PATH: path })
    await app.make('events').dispatch(new UserSignedUp('ada@example.test', 'hunter2'))
    await app.make('events').dispatch('orders.shipped', { orderId: 7 })
    // Buffered: well under the size limit and the one-second timer.
    expect(existsSync(path)).toBe(false)

    await app.shutdown()
    const written = lines(path)
    expect(written.map((line) => line.name)).toEqual(['UserSignedUp', 'orders.shipped'])
    expect(written[0]).toEqual({
      id: expect.stringMatching(ULID),
      name: 'UserSignedUp',
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      correlation_id: written[0]!.id,
      payload: { email: 'ada@example.test', password: '[REDACTED]', visits: '3' },
    })
  })

  it('writes a relative path under the application’s base path', async () => {
    const dir = folder()
    const app = createApplication({ basePath: dir, envFile: false, loadConfig: false, env: { EVENTS_DISCOVERY: 'false', EVENTS_JSONL_PATH: 'storage/events.jsonl' } })
    apps.push(app)
    await app.boot()
    await app.make('events').dispatch('ping', {})
    await app.shutdown()
    expect(lines(join(dir, 'storage/events.jsonl')).map((line) => line.name)).toEqual(['ping'])
  })

  it('survives rotation: after the file is renamed or removed, the next write creates it at the path', async () => {
    const path = join(folder(), 'events.jsonl')
    const events = new Dispatcher()
    const file = new JsonLinesSubscriber(path, createRedactor([]))
    events.subscribe(file)
    try {
      await events.dispatch('first', 1)
      await file.flush()
      renameSync(path, `${path}.1`)
      await events.dispatch('second', 2)
      await file.flush()
      expect(lines(`${path}.1`).map((line) => line.name)).toEqual(['first'])
      expect(lines(path).map((line) => line.name)).toEqual(['second'])

      unlinkSync(path)
      await events.dispatch('third', 3)
      await file.flush()
      expect(lines(path).map((line) => line.name)).toEqual(['third'])
    } finally {
      await file.close()
    }
  })

  it('writes when the buffer is large, and on its timer', async () => {
    const dir = folder()
    const bySize = new JsonLinesSubscriber(join(dir, 'size.jsonl'), createRedactor([]), { flushBytes: 100, flushInterval: 60_000 })
    const byTimer = new JsonLinesSubscriber(join(dir, 'timer.jsonl'), createRedactor([]), { flushInterval: 20 })
    // A dispatcher subscribes a class once: one dispatcher each.
    const dispatchers = [bySize, byTimer].map((file) => {
      const events = new Dispatcher()
      events.subscribe(file)
      return events
    })
    const dispatch = (name: string, payload: unknown) => Promise.all(dispatchers.map((events) => events.dispatch(name, payload)))
    try {
      await dispatch('small', {})
      expect(existsSync(join(dir, 'size.jsonl'))).toBe(false)
      await dispatch('large', { text: 'x'.repeat(100) })
      await expect.poll(() => lines(join(dir, 'size.jsonl')).map((line) => line.name)).toEqual(['small', 'large'])
      await expect.poll(() => lines(join(dir, 'timer.jsonl')).map((line) => line.name)).toEqual(['small', 'large'])
    } finally {
      await Promise.all([bySize.close(), byTimer.close()])
    }
  })

  it('reports a failed background write and rejects a failed close', async () => {
    const dir = folder()
    const reported: unknown[] = []
    // A directory where the file should be: every append fails with EISDIR.
    const file = new JsonLinesSubscriber(dir, createRedactor([]), { flushBytes: 1, report: (error) => reported.push(error) })
    file.append({ name: 'lost', occurred_at: new Date().toISOString(), payload: null })
    await expect.poll(() => reported.length).toBe(1)
    expect(String(reported[0])).toContain('EISDIR')
    file.append({ name: 'lost', occurred_at: new Date().toISOString(), payload: null })
    await expect(file.close()).rejects.toThrow('EISDIR')
  })
})
