/**
 * /health and /metrics can be protected (issue 11, problem 5): a token (Bearer or ?token=) or
 * an address allow-list from config/ops.ts; by default loopback only, so the machine itself
 * reads them and the network does not. Each case boots the demo with its settings and asks
 * over real HTTP; refusals are 401/403 with a bare message.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bootApplication, createMigrator, type Application } from 'herald'
import { UserError } from '../../src/foundation/errors.ts'
import { createApplicationHttpKernel, type HttpKernel } from '../../src/http/http-kernel.ts'
import { addressMatcher } from '../../src/http/ops-access.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
let database: FreshDatabase
let filename: string

beforeAll(async () => {
  database = await freshDatabase('sqlite')
  filename = (database.connection as { filename: string }).filename
  const app = await bootApplication({ basePath: root, envFile: false, env: { LOG_LEVEL: 'silent', DB_DATABASE: filename, BROADCAST_CONNECTION: 'null' } })
  try {
    await (await createMigrator(app)).latest()
  } finally {
    await app.shutdown()
  }
})
afterAll(async () => {
  await database?.drop()
})

interface Served {
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: unknown; headers: Headers }>
}

/** The demo with these settings on a port of its own, for the duration of `run`. */
async function withServer(env: Record<string, string>, run: (served: Served) => Promise<void>, configure?: (kernel: HttpKernel) => void): Promise<void> {
  const app: Application = await bootApplication({
    basePath: root,
    envFile: false,
    env: { LOG_LEVEL: 'silent', DB_DATABASE: filename, QUEUE_CONNECTION: 'database', BROADCAST_CONNECTION: 'null', EVENTS_METRICS_ENABLED: 'true', ...env },
  })
  try {
    const kernel = await createApplicationHttpKernel(app)
    configure?.(kernel)
    const { port } = await kernel.listen(0, '127.0.0.1')
    await run({
      async get(path, headers = {}) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { accept: 'application/json', ...headers } })
        const text = await response.text()
        const json = response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text
        return { status: response.status, body: json, headers: response.headers }
      },
    })
  } finally {
    await app.shutdown()
  }
}

describe('the default: loopback only, no token', () => {
  it('serves /health and /metrics to the machine itself', async () => {
    await withServer({}, async (served) => {
      const health = await served.get('/health')
      expect(health.status).toBe(200)
      expect(health.body).toEqual({ status: 'up', checks: { database: 'up', queue: 'up' } })
      const metrics = await served.get('/metrics')
      expect(metrics.status).toBe(200)
      expect(metrics.body).toContain('herald_events_dispatched_total')
    })
  })

  it('refuses a request that came through a proxy: its loopback peer says nothing of the client', async () => {
    await withServer({}, async (served) => {
      for (const path of ['/health', '/metrics']) {
        const proxied: Array<Record<string, string>> = [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { 'x-real-ip': '203.0.113.9' }]
        for (const header of proxied) {
          const refused = await served.get(path, header)
          expect(refused.status).toBe(403)
          expect(refused.body).toEqual({ message: 'Forbidden.' })
        }
      }
    })
  })
})

describe('a token', () => {
  const token = 'b7c1e0f4d2a94e3c8f6a5b0d1e2f3a4b'

  it('lets in exactly the requests that carry it, as a Bearer header or ?token=, when no address is allowed', async () => {
    await withServer({ OPS_TOKEN: token, OPS_ALLOWED_IPS: 'none' }, async (served) => {
      for (const path of ['/health', '/metrics']) {
        const missing = await served.get(path)
        expect(missing.status).toBe(401)
        expect(missing.headers.get('www-authenticate')).toBe('Bearer')
        expect(missing.body).toEqual({ message: 'Unauthorized.' })
        const wrong = await served.get(path, { authorization: 'Bearer not-the-token' })
        expect(wrong.status).toBe(403)
        expect(wrong.body).toEqual({ message: 'Forbidden.' })
        expect((await served.get(`${path}?token=not-the-token`)).status).toBe(403)
        expect((await served.get(path, { authorization: `Bearer ${token}` })).status).toBe(200)
        expect((await served.get(`${path}?token=${token}`)).status).toBe(200)
        // A prefix of the token, or the token with more after it, is not the token.
        expect((await served.get(path, { authorization: `Bearer ${token.slice(0, -1)}` })).status).toBe(403)
        expect((await served.get(path, { authorization: `Bearer ${token}x` })).status).toBe(403)
      }
    })
  })

  it('refuses a wrong token even from an allowed address, and takes none from it', async () => {
    await withServer({ OPS_TOKEN: token }, async (served) => {
      expect((await served.get('/health')).status).toBe(200)
      expect((await served.get('/health', { authorization: 'Bearer stale' })).status).toBe(403)
      expect((await served.get('/metrics', { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' })).status).toBe(200)
    })
  })
})

describe('an address allow-list', () => {
  it('refuses loopback when only another range is allowed, with no token configured: 403', async () => {
    await withServer({ OPS_ALLOWED_IPS: '10.0.0.0/8, 192.168.1.7' }, async (served) => {
      const refused = await served.get('/health')
      expect(refused.status).toBe(403)
      expect(refused.headers.get('www-authenticate')).toBeNull()
      expect((await served.get('/metrics')).status).toBe(403)
    })
  })

  it("reads the client's address from X-Forwarded-For once express trusts the proxy", async () => {
    const trustLoopback = (kernel: HttpKernel) => kernel.express.set('trust proxy', 'loopback')
    await withServer(
      { OPS_ALLOWED_IPS: '203.0.113.0/24' },
      async (served) => {
        expect((await served.get('/metrics', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200)
        expect((await served.get('/metrics', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(403)
        // Straight from loopback, not in the list.
        expect((await served.get('/metrics')).status).toBe(403)
      },
      trustLoopback,
    )
  })

  it('opens /health alone to everyone with OPS_HEALTH_PUBLIC', async () => {
    await withServer({ OPS_ALLOWED_IPS: 'none', OPS_HEALTH_PUBLIC: 'true' }, async (served) => {
      expect((await served.get('/health', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200)
      expect((await served.get('/metrics')).status).toBe(403)
    })
  })

  it('refuses to start with a malformed entry, naming it in one line', async () => {
    const app = await bootApplication({ basePath: root, envFile: false, env: { LOG_LEVEL: 'silent', DB_DATABASE: filename, BROADCAST_CONNECTION: 'null', OPS_ALLOWED_IPS: '127.0.0.1,10.0.0/8' } })
    try {
      const error = await createApplicationHttpKernel(app).then(
        () => null,
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(UserError)
      expect((error as Error).message).toBe('OPS_ALLOWED_IPS: "10.0.0/8" is not an IP address or a CIDR range (e.g. 10.0.0.0/8, ::1, * for any, none).')
    } finally {
      await app.shutdown()
    }
  })

  it('matches exact addresses, CIDR ranges in both families and IPv4-mapped IPv6 addresses', () => {
    const allowed = addressMatcher(['127.0.0.0/8', '::1', '192.168.1.7', 'fd00::/8'])
    expect(allowed('127.0.0.1')).toBe(true)
    expect(allowed('127.255.0.3')).toBe(true)
    expect(allowed('::ffff:127.0.0.1')).toBe(true)
    expect(allowed('::1')).toBe(true)
    expect(allowed('192.168.1.7')).toBe(true)
    expect(allowed('192.168.1.8')).toBe(false)
    expect(allowed('fd12:3456::1')).toBe(true)
    expect(allowed('fe80::1')).toBe(false)
    expect(allowed('10.0.0.1')).toBe(false)
    expect(allowed(null)).toBe(false)
    expect(allowed('not an address')).toBe(false)
    expect(addressMatcher(['*'])('203.0.113.9')).toBe(true)
    expect(addressMatcher(['none'])('127.0.0.1')).toBe(false)
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/8/1', 'localhost', '10.0.0.0/x', '1.2.3.4/'])
      expect(() => addressMatcher([bad]), bad).toThrow(`OPS_ALLOWED_IPS: "${bad}" is not an IP address or a CIDR range`)
  })
})
