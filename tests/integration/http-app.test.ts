/**
 * The demo application's web side over real HTTP on an ephemeral port: the order flow (JSON,
 * the page's form and the API), validation (422, nothing written or dispatched), CSRF (419),
 * failed jobs and their Retry, and /health up and down. SQLite, the database queue and a real
 * in-process worker; nothing is mocked.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { bootApplication, createApplication, createMigrator, type Application, type Knex } from 'herald'
import { createApplicationHttpKernel, type HttpKernel } from '../../src/http/http-kernel.ts'
import { testWorker } from '../support/test-worker.ts'
import { inventory } from '../../app/services/inventory.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
let database: FreshDatabase
let app: Application
let kernel: HttpKernel
let base: string
let db: Knex

beforeAll(async () => {
  database = await freshDatabase('sqlite')
  const filename = (database.connection as { filename: string }).filename
  app = await bootApplication({
    basePath: root,
    envFile: false,
    env: { LOG_LEVEL: 'silent', DB_DATABASE: filename, QUEUE_CONNECTION: 'database', BROADCAST_CONNECTION: 'null' },
  })
  await (await createMigrator(app)).latest()
  kernel = await createApplicationHttpKernel(app)
  base = `http://127.0.0.1:${(await kernel.listen(0, '127.0.0.1')).port}`
  db = await app.make('db').connection()
})
afterAll(async () => {
  await app?.shutdown()
  await database?.drop()
})
beforeEach(async () => {
  await db('orders').delete()
  await db('jobs').delete()
  await db('failed_jobs').delete()
  await db('outbox').delete()
  inventory.set('BOOK-1', 100)
  inventory.set('MUG-2', 2)
})

/** A browser's visit: the page, its XSRF-TOKEN cookie and the token the page carries. */
async function visit(): Promise<{ html: string; cookie: string; token: string }> {
  const response = await fetch(`${base}/`)
  expect(response.status).toBe(200)
  const setCookie = response.headers.get('set-cookie') ?? ''
  const token = /XSRF-TOKEN=([0-9a-f]{32}\.[0-9a-f]{64})/.exec(setCookie)?.[1]
  expect(token).toBeDefined()
  const html = await response.text()
  expect(html).toContain(`<meta name="csrf-token" content="${token}">`)
  return { html, cookie: `XSRF-TOKEN=${token}`, token: token! }
}

function postJson(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

async function counts() {
  const count = async (table: string) => Number(((await db(table).count({ n: '*' })) as { n: number | string }[])[0]!.n)
  return { orders: await count('orders'), jobs: await count('jobs'), outbox: await count('outbox') }
}

async function work(until: () => Promise<boolean>): Promise<void> {
  const worker = testWorker(app.make('queue'))
  const running = worker.run()
  try {
    await expect.poll(until, { timeout: 20_000, interval: 50 }).toBe(true)
  } finally {
    await worker.stop()
    await running
  }
}

describe('POST /orders', () => {
  it('places an order from JSON with the CSRF header: 201, the row, the stock reserved, three jobs queued', async () => {
    const { cookie, token } = await visit()
    const response = await postJson('/orders', { email: 'ada@example.test', sku: 'BOOK-1', quantity: 2 }, { cookie, 'x-csrf-token': token })
    expect(response.status).toBe(201)
    const { order } = (await response.json()) as { order: { id: number; total: string; warehouse: string } }
    expect(order).toMatchObject({ total: '48.00', warehouse: 'pending' })
    expect(await db('orders').where('id', order.id).first()).toMatchObject({ email: 'ada@example.test', sku: 'BOOK-1', quantity: 2, total_cents: 4800 })
    // ReserveStock ran in the request, once the order committed.
    expect(inventory.get('BOOK-1')).toBe(98)
    const jobs = (await db('jobs').select('payload')).map((row: { payload: string }) => (JSON.parse(row.payload) as { displayName: string }).displayName)
    expect(jobs.sort()).toEqual(['NotifyWarehouse', 'OrderPlaced', 'SendOrderConfirmation'])

    // A worker runs them: the confirmation is in the outbox, the warehouse notified.
    await work(async () => (await counts()).jobs === 0)
    expect(await db('outbox').where('order_id', order.id).first()).toMatchObject({ to: 'ada@example.test', subject: `Your order #${order.id}` })
    expect((await db('orders').where('id', order.id).first()).warehouse_notified_at).not.toBeNull()
  })

  it('answers invalid JSON input with 422 and every field error; writes and dispatches nothing', async () => {
    const { cookie, token } = await visit()
    const response = await postJson('/orders', { email: 'not-an-email', sku: 'NOPE', quantity: 0 }, { cookie, 'x-csrf-token': token })
    expect(response.status).toBe(422)
    expect(await response.json()).toEqual({
      message: 'The email field must be a valid email address. (and 2 more errors)',
      errors: {
        email: ['The email field must be a valid email address.'],
        sku: ['The selected sku is invalid.'],
        quantity: ['The quantity field must be at least 1.'],
      },
    })
    expect(await counts()).toEqual({ orders: 0, jobs: 0, outbox: 0 })
    expect(inventory.get('BOOK-1')).toBe(100)
  })

  it('refuses more than is in stock with 422 on the quantity', async () => {
    const { cookie, token } = await visit()
    const response = await postJson('/orders', { email: 'a@b.test', sku: 'MUG-2', quantity: 3 }, { cookie, 'x-csrf-token': token })
    expect(response.status).toBe(422)
    expect(((await response.json()) as { errors: unknown }).errors).toEqual({ quantity: ['Only 2 of MUG-2 left.'] })
    expect(await counts()).toEqual({ orders: 0, jobs: 0, outbox: 0 })
  })

  it('re-renders the form with the errors and what was typed when the page posts invalid input', async () => {
    const { cookie, token } = await visit()
    const response = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie },
      body: new URLSearchParams({ _token: token, email: 'ada@example.test', sku: 'BOOK-1', quantity: '11' }),
    })
    expect(response.status).toBe(422)
    const html = await response.text()
    expect(html).toContain('The quantity field must not be greater than 10.')
    expect(html).toContain('value="ada@example.test"')
    expect(html).toContain('value="11"')
    expect(await counts()).toEqual({ orders: 0, jobs: 0, outbox: 0 })
  })

  it('redirects the page to the dashboard after a valid form post', async () => {
    const { cookie, token } = await visit()
    const response = await fetch(`${base}/orders`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie },
      body: new URLSearchParams({ _token: token, email: 'ada@example.test', sku: 'MUG-2', quantity: '1' }),
    })
    expect(response.status).toBe(303)
    const id = (await db('orders').first()).id as number
    expect(response.headers.get('location')).toBe(`/?placed=${id}#orders`)
    const page = await (await fetch(`${base}${response.headers.get('location')}`, { headers: { cookie } })).text()
    expect(page).toContain(`Order #${id} placed.`)
    expect(page).toContain(`data-order="${id}"`)
  })

  it('rejects a post without the CSRF token, or with another one, with 419; nothing is written', async () => {
    const { cookie } = await visit()
    const none = await postJson('/orders', { email: 'a@b.test', sku: 'BOOK-1', quantity: 1 }, { cookie })
    expect(none.status).toBe(419)
    expect(await none.json()).toEqual({ message: 'CSRF token mismatch.' })
    const other = await postJson('/orders', { email: 'a@b.test', sku: 'BOOK-1', quantity: 1 }, { cookie, 'x-csrf-token': 'f'.repeat(64) })
    expect(other.status).toBe(419)
    const noCookie = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ _token: 'a'.repeat(64), email: 'a@b.test', sku: 'BOOK-1', quantity: '1' }),
    })
    expect(noCookie.status).toBe(419)
    expect(await noCookie.text()).toContain('<p>CSRF token mismatch.</p>')
    expect(await counts()).toEqual({ orders: 0, jobs: 0, outbox: 0 })
    // The web group's CSRF check is its routes' own: a POST to no route is a 404.
    const nowhere = await postJson('/nowhere', {})
    expect(nowhere.status).toBe(404)
    expect(await nowhere.json()).toEqual({ message: 'No route for POST /nowhere.' })
  })

  it('takes JSON from other programs at /api/orders without a CSRF token', async () => {
    const response = await postJson('/api/orders', { email: 'bot@example.test', sku: 'BOOK-1', quantity: 1 })
    expect(response.status).toBe(201)
    expect((await counts()).orders).toBe(1)
    const invalid = await postJson('/api/orders', { sku: 'BOOK-1', quantity: 1 })
    expect(invalid.status).toBe(422)
    expect(((await invalid.json()) as { errors: unknown }).errors).toEqual({ email: ['The email field is required.'] })
  })
})

describe('failed jobs', () => {
  it('lists a warehouse failure after its 3 tries, and Retry (with the token) runs it again, successfully', async () => {
    const { cookie, token } = await visit()
    const placed = await postJson('/orders', { email: 'ada@example.test', sku: 'BOOK-1', quantity: 1, fail_warehouse: true }, { cookie, 'x-csrf-token': token })
    const { order } = (await placed.json()) as { order: { id: number } }
    await work(async () => (await db('failed_jobs').count({ n: '*' }))[0]!.n == 1 && (await counts()).jobs === 0)

    const listed = (await (await fetch(`${base}/failed-jobs`)).json()) as { failedJobs: { id: number; name: string; error: string }[] }
    expect(listed.failedJobs).toHaveLength(1)
    const failed = listed.failedJobs[0]!
    expect(failed).toMatchObject({ name: 'NotifyWarehouse', error: `WarehouseUnavailable: The warehouse did not answer for order #${order.id}` })
    expect((await visit()).html).toContain(`data-failed-job="${failed.id}"`)
    // failed() cleared the outage: a retry will go through.
    expect(Boolean((await db('orders').where('id', order.id).first()).fail_warehouse)).toBe(false)

    const forged = await postJson(`/failed-jobs/${failed.id}/retry`, {}, { cookie })
    expect(forged.status).toBe(419)
    const retried = await postJson(`/failed-jobs/${failed.id}/retry`, {}, { cookie, 'x-csrf-token': token })
    expect(retried.status).toBe(200)
    expect(await retried.json()).toEqual({ retried: failed.id })
    expect(await db('failed_jobs').count({ n: '*' })).toEqual([{ n: 0 }])
    await work(async () => (await counts()).jobs === 0)
    expect((await db('orders').where('id', order.id).first()).warehouse_notified_at).not.toBeNull()

    const missing = await postJson(`/failed-jobs/${failed.id}/retry`, {}, { cookie, 'x-csrf-token': token })
    expect(missing.status).toBe(404)
  })
})

describe('GET /health', () => {
  it('is 200 with the database and the queue up', async () => {
    const response = await fetch(`${base}/health`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'up', checks: { database: 'up', queue: 'up' } })
  })

  it('is 503 naming what is down: a database nobody listens for, then Redis', async () => {
    const probe = async (env: Record<string, string>) => {
      const other = createApplication({ basePath: root, envFile: false, env: { LOG_LEVEL: 'silent', BROADCAST_CONNECTION: 'null', ...env } })
      await other.boot()
      const otherKernel = await createApplicationHttpKernel(other)
      try {
        const { port } = await otherKernel.listen(0, '127.0.0.1')
        const response = await fetch(`http://127.0.0.1:${port}/health`)
        return { status: response.status, body: await response.json() }
      } finally {
        await other.shutdown()
      }
    }
    expect(await probe({ DB_CONNECTION: 'pgsql', DB_PORT: '1', QUEUE_CONNECTION: 'database' })).toEqual({
      status: 503,
      body: { status: 'down', checks: { database: 'down', queue: 'down' } },
    })
    expect(await probe({ DB_DATABASE: (database.connection as { filename: string }).filename, QUEUE_CONNECTION: 'bullmq', REDIS_URL: 'redis://127.0.0.1:1' })).toEqual({
      status: 503,
      body: { status: 'down', checks: { database: 'up', queue: 'down', redis: 'down' } },
    })
  })
})
