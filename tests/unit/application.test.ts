import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  Application,
  Env,
  Event,
  ServiceProvider,
  bootApplication,
  createApplication,
  facadeRoot,
  setFacadeRoot,
} from 'herald'
import { journal } from '../fixtures/shop/app/journal.ts'
import { OrderPlaced } from '../fixtures/shop/app/events/order-placed.ts'
import { OrderCancelled } from '../fixtures/shop/app/events/order-cancelled.ts'

const shop = fileURLToPath(new URL('../fixtures/shop', import.meta.url))

beforeEach(() => {
  journal.length = 0
})
afterEach(() => setFacadeRoot(null))

describe('Env', () => {
  it('reads typed values and names the key of a malformed one', () => {
    const env = new Env({ PORT: '8080', DEBUG: 'yes', EMPTY: '', MODE: 'redis', BAD: 'x' })
    expect(env.number('PORT', 3000)).toBe(8080)
    expect(env.number('MISSING', 3000)).toBe(3000)
    expect(env.boolean('DEBUG', false)).toBe(true)
    expect(env.string('EMPTY', 'fallback')).toBe('fallback')
    expect(env.oneOf('MODE', ['sync', 'redis'], 'sync')).toBe('redis')
    expect(() => env.number('BAD', 1)).toThrow('BAD must be a number, got "x".')
    expect(() => env.boolean('BAD', true)).toThrow('BAD must be true or false, got "x".')
    expect(() => env.oneOf('BAD', ['sync', 'redis'], 'sync')).toThrow('BAD must be one of sync, redis, got "x".')
  })

  it('loads .env under the process environment', () => {
    const env = Env.load(join(shop, '.env.fixture'), { APP_NAME: 'From process' })
    expect(env.get('APP_NAME')).toBe('From process')
    expect(env.get('SHOP_ONLY')).toBe('from-file')
    expect(Env.load(join(shop, 'no-such-file'), {}).get('SHOP_ONLY')).toBeUndefined()
  })
})

describe('Application', () => {
  it('boots: .env, typed config from config/*.ts, providers register then boot, discovery', async () => {
    const app = createApplication({ basePath: shop, env: {}, envFile: '.env.fixture' })
    expect(journal).toEqual([])
    await app.boot()
    expect(app.config.get('app').name).toBe('Shop from dotenv')
    expect(app.config.get('app').logLevel).toBe('silent')
    expect(app.config.get('events').discovery).toBe(true)
    expect(journal).toEqual(['provider register', 'provider boot Shop from dotenv'])
    await app.make('events').dispatch(new OrderPlaced(3))
    expect(journal.slice(2)).toEqual(['recorded 3', 'audit placed 3'])
    await app.shutdown()
    expect(journal.at(-1)).toBe('provider shutdown')
  })

  it('lets a test boot its own application with its own environment', async () => {
    const first = createApplication({ basePath: shop, env: { APP_NAME: 'One' }, envFile: false })
    const second = createApplication({ basePath: shop, env: { APP_NAME: 'Two', EVENTS_DISCOVERY: 'false' }, envFile: false })
    await Promise.all([first.boot(), second.boot()])
    expect(first.config.get('app').name).toBe('One')
    expect(second.config.get('app').name).toBe('Two')
    expect(first.make('events').hasListeners(OrderPlaced)).toBe(true)
    expect(second.make('events').hasListeners(OrderPlaced)).toBe(false)
    expect(first.make('events')).not.toBe(second.make('events'))
    await Promise.all([first.shutdown(), second.shutdown()])
  })

  it('boot runs once however often it is called', async () => {
    const app = createApplication({ basePath: shop, env: {}, envFile: false })
    await Promise.all([app.boot(), app.boot()])
    await app.boot()
    expect(journal.filter((line) => line.startsWith('provider boot'))).toHaveLength(1)
    await app.shutdown()
  })

  it('shutdown runs every step newest first, even after one fails, once', async () => {
    const app = new Application({ loadConfig: false })
    const steps: string[] = []
    app.onShutdown(() => void steps.push('database'))
    app.onShutdown(() => {
      steps.push('queue')
      throw new Error('queue would not close')
    })
    app.onShutdown(async () => void steps.push('server'))
    const first = app.shutdown()
    const second = app.shutdown()
    expect(second).toBe(first)
    await expect(first).rejects.toThrow('1 shutdown step(s) failed')
    expect(steps).toEqual(['server', 'queue', 'database'])
  })

  it('reports a config file without defineConfig as a one-line user error', async () => {
    const base = mkdtempSync(join(tmpdir(), 'herald-config-'))
    mkdirSync(join(base, 'config'))
    writeFileSync(join(base, 'config', 'app.ts'), 'export default { name: "x" }\n')
    const app = createApplication({ basePath: base, env: {}, envFile: false })
    await expect(app.boot()).rejects.toThrow('config/app.ts must export default defineConfig((env) => ({ ... })).')
  })

  it('rejects a malformed setting at boot, naming the key', async () => {
    const app = createApplication({ basePath: shop, env: { EVENTS_DISCOVERY: 'maybe' }, envFile: false })
    await expect(app.boot()).rejects.toThrow('EVENTS_DISCOVERY must be true or false, got "maybe".')
  })

  it('runs framework and application providers in order: all register, then all boot', async () => {
    const order: string[] = []
    class First extends ServiceProvider {
      override register() {
        order.push('first register')
      }
      override boot() {
        order.push('first boot')
      }
    }
    class Second extends ServiceProvider {
      override register() {
        order.push('second register')
      }
      override async boot() {
        order.push(`second boot sees ${this.app.make('events').constructor.name}`)
      }
    }
    const app = createApplication({
      loadConfig: false,
      providers: [First],
      configure: (config) => {
        config.app.providers = [Second]
      },
    })
    await app.boot()
    expect(order).toEqual(['first register', 'second register', 'first boot', 'second boot sees Dispatcher'])
  })

  it('make() names the missing binding', () => {
    const app = new Application({ loadConfig: false })
    expect(() => app.make('events')).toThrow('Nothing is bound to "events" in the container: is its service provider registered?')
  })
})

describe('facade root', () => {
  it('bootApplication makes the booted application back the facades, until it shuts down', async () => {
    const app = await bootApplication({ basePath: shop, env: {}, envFile: false })
    expect(facadeRoot()).toBe(app)
    await Event.dispatch(new OrderCancelled(4))
    // Discovery registers files in name order: everything.ts before order-audit.ts.
    expect(journal.slice(-3)).toEqual(['cancelled 4', 'wildcard orders.cancelled', 'audit cancelled'])
    await app.shutdown()
    expect(facadeRoot()).not.toBe(app)
  })

  it('without a booted application the facades use a bare one', async () => {
    const seen: number[] = []
    Event.listen(OrderPlaced, (event) => void seen.push(event.orderId))
    await Event.dispatch(new OrderPlaced(1))
    expect(seen).toEqual([1])
    expect(facadeRoot().isBooted).toBe(false)
  })
})
