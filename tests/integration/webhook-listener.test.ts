/**
 * WebhookListener end to end: EVENTS_WEBHOOK_URLS, a real HTTP server on an ephemeral port,
 * SQLite with the database queue, and a real worker running the jobs. Nothing is mocked.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Dispatchable, createApplication, createMigrator, type Application, type Knex } from 'herald'
import { Worker } from '../../src/queue/worker.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

class InvoicePaid extends Dispatchable {
  constructor(
    readonly invoiceId: number,
    readonly card: { number: string; holder: string },
  ) {
    super()
  }
}

interface Received {
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly body: Record<string, unknown>
}

/** A webhook receiver: answers each POST with the next status of its path's script (the last repeats). */
let server: Server
let base: string
const received: Received[] = []
const scripts = new Map<string, number[]>()

let database: FreshDatabase
let app: Application
let db: Knex

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const path = request.url ?? '/'
      received.push({ path, headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> })
      const script = scripts.get(path) ?? [200]
      response.writeHead(script.length > 1 ? script.shift()! : script[0]!).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  database = await freshDatabase('sqlite')
  app = makeApp({ EVENTS_WEBHOOK_URLS: `${base}/ok,${base}/flaky,${base}/down`, EVENTS_WEBHOOK_EVENTS: 'Invoice*,orders.shipped' })
  await app.boot()
  await (await createMigrator(app)).latest()
  db = await app.make('db').connection()
})
afterEach(async () => {
  received.length = 0
  scripts.clear()
  await db('jobs').delete()
  await db('failed_jobs').delete()
})
afterAll(async () => {
  await app?.shutdown()
  await database?.drop()
  await new Promise((resolve) => server?.close(resolve))
})

/** An application on the test database and its database queue, with these webhook settings. */
function makeApp(env: Record<string, string>): Application {
  return createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent', QUEUE_CONNECTION: 'database', EVENTS_REDACT: 'card,password', ...env },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: database.connection } }
      // Quick retries for the test: 3 tries, no wait between them.
      config.events.handlers.webhook = { ...config.events.handlers.webhook, tries: 3, backoff: [0] }
    },
  })
}

/** Runs a worker on the database queue until `until` holds. */
async function work(until: () => Promise<boolean> | boolean, source = app): Promise<void> {
  const worker = new Worker(source.make('queue'), {
    connection: 'database',
    queues: ['default'],
    concurrency: 1,
    defaults: { tries: 1, backoff: 0, timeout: 30 },
    sleep: 0.02,
    stopWhenEmpty: false,
    maxJobs: 0,
    maxTime: 0,
    memory: 0,
  })
  const running = worker.run()
  try {
    await expect.poll(until, { timeout: 20_000, interval: 20 }).toBe(true)
  } finally {
    await worker.stop()
    await running
  }
}

async function jobsLeft(): Promise<number> {
  return Number(((await db('jobs').count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n)
}

describe('WebhookListener', () => {
  it('queues one job per URL for a matching event, and POSTs its JSON, redacted, to each', async () => {
    scripts.set('/down', [200])
    await app.make('events').dispatch(new InvoicePaid(7, { number: '4242424242424242', holder: 'Ada' }))
    await app.make('events').dispatch('orders.cancelled', { orderId: 1 })
    // Queued, not posted: one row per URL, the body already redacted in the jobs table.
    expect(received).toEqual([])
    const rows = (await db('jobs').select('payload')) as Array<{ payload: string }>
    expect(rows).toHaveLength(3)
    expect(rows.map((row) => row.payload).join('')).not.toContain('4242')
    // config/events.ts handlers.webhook tries and backoff, on each job.
    expect(JSON.parse(rows[0]!.payload)).toMatchObject({ displayName: 'WebhookListener', maxTries: 3, backoff: [0] })

    await work(async () => (await jobsLeft()) === 0)
    expect(received.map((request) => request.path).sort()).toEqual(['/down', '/flaky', '/ok'])
    const [first] = received
    expect(first!.headers['content-type']).toBe('application/json')
    expect(first!.body).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      name: 'InvoicePaid',
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      correlation_id: first!.body.id,
      payload: { invoiceId: 7, card: '[REDACTED]' },
    })
    // The same event, byte for byte, to every URL.
    expect(new Set(received.map((request) => JSON.stringify(request.body))).size).toBe(1)
  })

  it('retries a non-2xx answer with backoff, and the retry succeeds', async () => {
    scripts.set('/flaky', [500, 502, 200])
    await app.make('events').dispatch('orders.shipped', { orderId: 3 })
    await work(async () => (await jobsLeft()) === 0)
    const flaky = received.filter((request) => request.path === '/flaky')
    expect(flaky).toHaveLength(3)
    expect(flaky.map((request) => request.body.name)).toEqual(['orders.shipped', 'orders.shipped', 'orders.shipped'])
    // A retry posts to the failing URL only: the others answered the first time.
    expect(received.filter((request) => request.path === '/ok')).toHaveLength(1)
    expect(await db('failed_jobs').count({ n: '*' })).toEqual([{ n: 0 }])
  })

  it('puts a delivery whose tries are spent in failed_jobs with the reason', async () => {
    scripts.set('/down', [503])
    await app.make('events').dispatch('orders.shipped', { orderId: 4 })
    await work(async () => (await jobsLeft()) === 0)
    expect(received.filter((request) => request.path === '/down')).toHaveLength(3)
    const failed = (await db('failed_jobs').select('*')) as Array<{ payload: string; exception: string }>
    expect(failed).toHaveLength(1)
    expect(failed[0]!.exception).toContain(`Webhook POST to ${base}/down answered 503 Service Unavailable`)
    expect(JSON.parse(failed[0]!.payload)).toMatchObject({ displayName: 'WebhookListener', attempts: 3 })
  })
})

describe('WebhookListener against an unreachable URL', () => {
  it('fails each attempt with the network error, then lands in failed_jobs', async () => {
    // A port that was free a moment ago: connection refused.
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/hook`
    await new Promise((resolve) => closed.close(resolve))

    const unreachable = makeApp({ EVENTS_WEBHOOK_URLS: url, EVENTS_WEBHOOK_EVENTS: 'payments.*' })
    try {
      await unreachable.boot()
      await unreachable.make('events').dispatch('payments.refused', { id: 1 })
      await work(async () => (await jobsLeft()) === 0, unreachable)
    } finally {
      await unreachable.shutdown()
    }
    const failed = (await db('failed_jobs').select('exception')) as Array<{ exception: string }>
    expect(failed).toHaveLength(1)
    expect(failed[0]!.exception).toMatch(new RegExp(`Webhook POST to ${url} failed: fetch failed: .*ECONNREFUSED`))
  })
})
