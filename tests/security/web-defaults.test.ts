/**
 * Issue 11, problem 5 (web defaults), against the demo application's real HTTP kernel on an
 * ephemeral port: every answer (page, asset, 404, 419, 500) carries the security headers; the
 * CSP allows this server's own scripts and socket and no framing by other sites; a CSRF token
 * is only one this server signed with APP_KEY (64 made-up hex digits sent as cookie and header
 * are 419); the XSRF-TOKEN cookie is Secure when APP_URL is https or SESSION_SECURE_COOKIE says
 * so; and the headers can be tuned or turned off in config/http.ts.
 */
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bootApplication, createCsrfToken, createMigrator, generateAppKey, isCsrfToken, parseAppKey, type Application, type HeraldConfig, type Knex } from 'herald'
import { createApplicationHttpKernel } from '../../src/http/http-kernel.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const APP_KEY = generateAppKey()
let database: FreshDatabase
let filename: string
const apps: Application[] = []

/** The demo application served on a free port, with this environment on top of the test's. */
async function serve(env: Record<string, string> = {}, configure?: (config: HeraldConfig) => void): Promise<{ base: string; app: Application }> {
  const app = await bootApplication({
    basePath: root,
    envFile: false,
    env: { LOG_LEVEL: 'silent', DB_DATABASE: filename, QUEUE_CONNECTION: 'database', BROADCAST_CONNECTION: 'null', APP_KEY, ...env },
    ...(configure ? { configure } : {}),
  })
  apps.push(app)
  const kernel = await createApplicationHttpKernel(app)
  // A route that fails, to see the headers on a 500 too.
  kernel.routes.get('/__fail', () => {
    throw new Error('the test route fails on purpose')
  })
  return { base: `http://127.0.0.1:${(await kernel.listen(0, '127.0.0.1')).port}`, app }
}

let base: string
let db: Knex

beforeAll(async () => {
  database = await freshDatabase('sqlite')
  filename = (database.connection as { filename: string }).filename
  const served = await serve()
  base = served.base
  await (await createMigrator(served.app)).latest()
  db = await served.app.make('db').connection()
})
afterAll(async () => {
  for (const app of apps) await app.shutdown()
  await database?.drop()
})

/** A browser's first visit: the XSRF-TOKEN cookie as set, and the token the page carries. */
async function visit(at = base): Promise<{ setCookie: string; cookie: string; token: string; html: string }> {
  const response = await fetch(`${at}/`)
  expect(response.status).toBe(200)
  const setCookie = response.headers.get('set-cookie') ?? ''
  const token = /XSRF-TOKEN=([^;]+)/.exec(setCookie)?.[1]
  expect(token, setCookie).toBeDefined()
  const html = await response.text()
  expect(html).toContain(`<meta name="csrf-token" content="${token}">`)
  return { setCookie, cookie: `XSRF-TOKEN=${token}`, token: token!, html }
}

function placeOrder(headers: Record<string, string>) {
  return fetch(`${base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ email: 'ada@example.test', sku: 'BOOK-1', quantity: 1 }),
  })
}

async function orderCount(): Promise<number> {
  return Number(((await db('orders').count({ n: '*' })) as { n: number | string }[])[0]!.n)
}

/** The CSP as a map of directive → sources. */
function csp(response: Response): Map<string, string[]> {
  const header = response.headers.get('content-security-policy')
  expect(header, 'Content-Security-Policy').not.toBeNull()
  return new Map(
    header!
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0] !== '')
      .map(([name, ...sources]) => [name!, sources]),
  )
}

function expectSecurityHeaders(response: Response): void {
  const policy = csp(response)
  expect(policy.get('default-src')).toEqual(["'self'"])
  expect(policy.get('script-src')).toEqual(["'self'"])
  expect(policy.get('script-src-attr')).toEqual(["'none'"])
  expect(policy.get('style-src')).toEqual(["'self'"])
  expect(policy.get('object-src')).toEqual(["'none'"])
  expect(policy.get('frame-ancestors')).toEqual(["'self'"])
  expect(policy.get('form-action')).toEqual(["'self'"])
  expect(policy.get('base-uri')).toEqual(["'self'"])
  // The dashboard's socket.io connection to its own origin, over WebSocket or polling.
  const host = new URL(response.url).host
  expect(policy.get('connect-src')).toEqual(["'self'", `ws://${host}`, `wss://${host}`])
  expect(response.headers.get('content-security-policy')).not.toContain('unsafe-inline')
  expect(response.headers.get('content-security-policy')).not.toContain('unsafe-eval')
  expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN')
  expect(response.headers.get('x-content-type-options')).toBe('nosniff')
  expect(response.headers.get('referrer-policy')).toBe('same-origin')
  expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin')
  expect(response.headers.get('x-powered-by')).toBeNull()
}

describe('security headers', () => {
  it('are on the dashboard page, its script, the 404, the 419, a 500 and /health', async () => {
    const page = await fetch(`${base}/`)
    expect(page.status).toBe(200)
    expectSecurityHeaders(page)
    // Over plain HTTP no HSTS and no upgrade, which would break a development server.
    expect(page.headers.get('strict-transport-security')).toBeNull()
    expect(csp(page).has('upgrade-insecure-requests')).toBe(false)

    const script = await fetch(`${base}/build/dashboard.js`)
    expect(script.status).toBe(200)
    expectSecurityHeaders(script)

    const missing = await fetch(`${base}/no-such-page`, { headers: { accept: 'text/html' } })
    expect(missing.status).toBe(404)
    expectSecurityHeaders(missing)

    const refused = await placeOrder({})
    expect(refused.status).toBe(419)
    expectSecurityHeaders(refused)

    const failed = await fetch(`${base}/__fail`, { headers: { accept: 'text/html' } })
    expect(failed.status).toBe(500)
    expect(await failed.text()).not.toContain('on purpose')
    expectSecurityHeaders(failed)

    const health = await fetch(`${base}/health`)
    expectSecurityHeaders(health)
  })

  it('the dashboard has no inline script or style for the CSP to block (its JSON data block runs nothing)', async () => {
    const { html } = await visit()
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((match) => match[1]!)
    expect(scripts.length).toBeGreaterThan(0)
    for (const attributes of scripts) expect(/\bsrc="\/[^/]/.test(attributes) || /type="application\/json"/.test(attributes), attributes).toBe(true)
    expect(html).not.toMatch(/<style\b|\sstyle="|\son[a-z]+="/i)
  })

  it('tolerate a Host header that cannot go into a policy: the request is served, the socket source falls back to self', async () => {
    const { request } = await import('node:http')
    const { port } = new URL(base)
    const answer = await new Promise<{ status: number; policy: string }>((resolve, reject) => {
      const outgoing = request({ host: '127.0.0.1', port, path: '/no-such-page', headers: { host: 'evil.test;script-src *' } }, (response) => {
        response.resume()
        resolve({ status: response.statusCode!, policy: String(response.headers['content-security-policy']) })
      })
      outgoing.on('error', reject)
      outgoing.end()
    })
    expect(answer.status).toBe(404)
    expect(answer.policy).toContain("connect-src 'self' 'self'")
    expect(answer.policy).not.toContain('evil.test')
  })

  it('send HSTS and upgrade-insecure-requests when APP_URL is https', async () => {
    const secure = await serve({ APP_URL: 'https://shop.example.test' })
    const page = await fetch(`${secure.base}/`)
    expect(page.headers.get('strict-transport-security')).toBe('max-age=31536000')
    expect(csp(page).get('upgrade-insecure-requests')).toEqual([])
  })

  it('merge config/http.ts options over the defaults, directive by directive', async () => {
    const tuned = await serve({}, (config) => {
      config.http = {
        ...config.http,
        headers: {
          contentSecurityPolicy: { directives: { imgSrc: ["'self'", 'https://images.example.test'], 'font-src': null } },
          referrerPolicy: { policy: 'no-referrer' },
        },
      }
    })
    const page = await fetch(`${tuned.base}/no-such-page`)
    const policy = csp(page)
    expect(policy.get('img-src')).toEqual(["'self'", 'https://images.example.test'])
    expect(policy.has('font-src')).toBe(false)
    expect(policy.get('frame-ancestors')).toEqual(["'self'"])
    expect(page.headers.get('referrer-policy')).toBe('no-referrer')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('are all off with headers: false', async () => {
    const bare = await serve({}, (config) => {
      config.http = { ...config.http, headers: false }
    })
    const page = await fetch(`${bare.base}/no-such-page`)
    expect(page.status).toBe(404)
    expect(page.headers.get('content-security-policy')).toBeNull()
    expect(page.headers.get('x-frame-options')).toBeNull()
  })

  it('refuse a broken CSP in config with one line naming config/http.ts', async () => {
    await expect(
      serve({}, (config) => {
        config.http = { ...config.http, headers: { contentSecurityPolicy: { directives: { 'script-src': ["'self'; object-src *"] } } } }
      }),
    ).rejects.toThrow(/^config\/http\.ts `headers` is not valid helmet options: /)
  })
})

describe('CSRF tokens signed with APP_KEY', () => {
  it('refuses 64 made-up hex digits sent as both cookie and header (419), and writes nothing', async () => {
    const forged = randomBytes(32).toString('hex')
    const before = await orderCount()
    const response = await placeOrder({ cookie: `XSRF-TOKEN=${forged}`, 'x-csrf-token': forged })
    expect(response.status).toBe(419)
    expect(await response.json()).toEqual({ message: 'CSRF token mismatch.' })
    // The forged cookie is replaced by a signed one.
    expect(response.headers.get('set-cookie')).toMatch(/^XSRF-TOKEN=[0-9a-f]{32}\.[0-9a-f]{64};/)
    expect(await orderCount()).toBe(before)
  })

  it('refuses a token of the right shape signed with another key, as cookie and header', async () => {
    const other = createCsrfToken(randomBytes(32))
    const response = await placeOrder({ cookie: `XSRF-TOKEN=${other}`, 'x-xsrf-token': other })
    expect(response.status).toBe(419)
    // And one whose signature was edited by a single digit.
    const { token } = await visit()
    const edited = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0')
    expect((await placeOrder({ cookie: `XSRF-TOKEN=${edited}`, 'x-csrf-token': edited })).status).toBe(419)
  })

  it('accepts the token the server handed out, signed with APP_KEY', async () => {
    const { cookie, token } = await visit()
    expect(isCsrfToken(token, parseAppKey(APP_KEY))).toBe(true)
    const before = await orderCount()
    const response = await placeOrder({ cookie, 'x-csrf-token': token })
    expect(response.status).toBe(201)
    expect(await orderCount()).toBe(before + 1)
    // A valid token in the cookie but another one in the header is still a mismatch.
    const { token: second } = await visit()
    expect((await placeOrder({ cookie, 'x-csrf-token': second })).status).toBe(419)
  })

  it('a token from a server with another APP_KEY does not pass here', async () => {
    const elsewhere = await serve({ APP_KEY: generateAppKey() })
    const { cookie, token } = await visit(elsewhere.base)
    const response = await placeOrder({ cookie, 'x-csrf-token': token })
    expect(response.status).toBe(419)
  })
})

describe('the XSRF-TOKEN cookie', () => {
  it('is SameSite=Lax, for the whole site, readable by scripts (axios, Echo), and not Secure over http', async () => {
    const { setCookie } = await visit()
    const attributes = setCookie.split(';').map((part) => part.trim().toLowerCase())
    expect(attributes).toContain('samesite=lax')
    expect(attributes).toContain('path=/')
    expect(attributes).not.toContain('httponly')
    expect(attributes).not.toContain('secure')
  })

  it('is Secure when APP_URL is https', async () => {
    const secure = await serve({ APP_URL: 'https://shop.example.test' })
    const attributes = (await visit(secure.base)).setCookie.split(';').map((part) => part.trim().toLowerCase())
    expect(attributes).toContain('secure')
    expect(attributes).toContain('samesite=lax')
  })

  it('is Secure when SESSION_SECURE_COOKIE=true, whatever APP_URL says', async () => {
    const secure = await serve({ APP_URL: 'http://127.0.0.1:3000', SESSION_SECURE_COOKIE: 'true' })
    expect((await visit(secure.base)).setCookie.toLowerCase()).toMatch(/;\s*secure(;|$)/)
  })
})
