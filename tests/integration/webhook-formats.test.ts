/**
 * Webhook formats and hostile endpoints, end to end: a real HTTP server on 127.0.0.1:0 in the
 * place of Slack (which cannot run here), SQLite with the database queue, and a real worker.
 * The slack format posts `{ text }` redacted; a function of one's own and a second subscriber
 * of another format work beside it; a redirect is not followed, a server that never answers
 * (or never finishes its answer) fails the attempt within EVENTS_WEBHOOK_TIMEOUT, and a Slack
 * URL's secret path never reaches failed_jobs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Dispatchable, WebhookSubscriber, createApplication, createMigrator, type Application, type HeraldConfig, type Knex } from 'herald'
import { SLACK_TEXT_LIMIT } from '../../src/events/handlers/slack-message.ts'
import { Worker } from '../../src/queue/worker.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

class UserSignedUp extends Dispatchable {
  constructor(
    readonly email: string,
    readonly password: string,
    readonly card: { number: string },
    readonly visits = 3n,
  ) {
    super()
  }
}

interface Received {
  readonly path: string
  readonly contentType: string | undefined
  readonly raw: string
}

/** What each path does: most answer 200; these misbehave. */
const behaviours: Record<string, (response: ServerResponse) => void> = {
  '/redirect': (response) => response.writeHead(307, { location: '/elsewhere' }).end(),
  '/hang': () => {},
  '/trickle': (response) => response.writeHead(200, { 'content-type': 'text/plain' }).write('partial'),
  // A failing answer that never ends: 1 MiB, then nothing.
  '/flood': (response) => response.writeHead(500, { 'content-type': 'text/plain' }).write('y'.repeat(1024 * 1024)),
  '/services/T0/B0/S3CR3T': (response) => response.writeHead(404).end('no_service'),
}

let server: Server
let base: string
const received: Received[] = []
const apps: Application[] = []
let database: FreshDatabase
let db: Knex

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const path = request.url ?? '/'
      received.push({ path, contentType: request.headers['content-type'], raw: Buffer.concat(chunks).toString('utf8') })
      const behave = behaviours[path] ?? ((answer: ServerResponse) => answer.writeHead(200).end('ok'))
      behave(response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  database = await freshDatabase('sqlite')
  const first = await boot({})
  await (await createMigrator(first)).latest()
  db = await first.make('db').connection()
})
afterEach(async () => {
  received.length = 0
  await db('jobs').delete()
  await db('failed_jobs').delete()
})
afterAll(async () => {
  for (const app of apps.splice(0).reverse()) await app.shutdown()
  await database?.drop()
  // The hanging requests' sockets: the client gave up on them, the server lets them go here.
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
})

/** A booted application on the test database and its database queue. */
async function boot(env: Record<string, string>, configure?: (config: HeraldConfig) => void): Promise<Application> {
  const app = createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent', QUEUE_CONNECTION: 'database', EVENTS_REDACT: 'password,card.number', ...env },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: database.connection } }
      // Quick retries for the test: 2 tries, no wait between them.
      config.events.handlers.webhook = { ...config.events.handlers.webhook, tries: 2, backoff: [0] }
      configure?.(config)
    },
  })
  apps.push(app)
  await app.boot()
  return app
}

/** Runs a worker on the database queue until no job is left. */
async function workOff(app: Application): Promise<void> {
  const worker = new Worker(app.make('queue'), {
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
    await expect.poll(async () => Number(((await db('jobs').count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n), { timeout: 20_000, interval: 20 }).toBe(0)
  } finally {
    await worker.stop()
    await running
  }
}

async function failures(): Promise<string[]> {
  return ((await db('failed_jobs').select('exception')) as Array<{ exception: string }>).map((row) => row.exception)
}

const signup = () => new UserSignedUp('ada@example.test', 'hunter2', { number: '4242424242424242' })

describe('the slack format (EVENTS_WEBHOOK_FORMAT=slack)', () => {
  it("posts Slack's { text }: the event name and its payload, redacted in the jobs table and on the wire", async () => {
    const app = await boot({ EVENTS_WEBHOOK_URLS: `${base}/slack`, EVENTS_WEBHOOK_EVENTS: 'UserSignedUp', EVENTS_WEBHOOK_FORMAT: 'slack' })
    await app.make('events').dispatch(signup())
    const queued = ((await db('jobs').select('payload')) as Array<{ payload: string }>).map((row) => row.payload).join('')
    expect(queued).toContain('UserSignedUp')
    // The job's own time limit: 5 s past the POST's default 10 s.
    expect(JSON.parse(queued)).toMatchObject({ displayName: 'WebhookListener', timeout: 15 })
    expect(queued).not.toMatch(/hunter2|4242/)

    await workOff(app)
    expect(received).toHaveLength(1)
    expect(received[0]!.contentType).toBe('application/json')
    expect(JSON.parse(received[0]!.raw)).toEqual({
      text: 'UserSignedUp {"email":"ada@example.test","password":"[REDACTED]","card":{"number":"[REDACTED]"},"visits":"3"}',
    })
    expect(received[0]!.raw).not.toMatch(/hunter2|4242/)
  })

  it('adds blocks with EVENTS_WEBHOOK_SLACK_BLOCKS, and cuts a huge payload to the limit', async () => {
    const app = await boot({ EVENTS_WEBHOOK_URLS: `${base}/slack`, EVENTS_WEBHOOK_EVENTS: 'import.*', EVENTS_WEBHOOK_FORMAT: 'slack', EVENTS_WEBHOOK_SLACK_BLOCKS: 'true' })
    await app.make('events').dispatch('import.finished', { rows: 'x'.repeat(200_000), password: 'hunter2' })
    await workOff(app)
    const body = JSON.parse(received[0]!.raw) as { text: string; blocks: Array<{ type: string; text?: { text: string } }> }
    expect(body.text.length).toBeLessThanOrEqual(SLACK_TEXT_LIMIT)
    expect(body.text).toMatch(/^import\.finished \{"rows":"x+… \(truncated: \d+ more characters\)$/)
    expect(body.blocks.map((block) => block.type)).toEqual(['section', 'section', 'context'])
    expect(body.blocks[1]!.text!.text.length).toBeLessThanOrEqual(SLACK_TEXT_LIMIT)
    expect(received[0]!.raw).not.toContain('hunter2')
  })

  it('never writes the secret path of a Slack URL into failed_jobs, and quotes what Slack answered', async () => {
    const app = await boot({ EVENTS_WEBHOOK_URLS: `${base}/services/T0/B0/S3CR3T`, EVENTS_WEBHOOK_EVENTS: 'UserSignedUp', EVENTS_WEBHOOK_FORMAT: 'slack' })
    await app.make('events').dispatch(signup())
    await workOff(app)
    expect(received.map((request) => request.path)).toEqual(['/services/T0/B0/S3CR3T', '/services/T0/B0/S3CR3T'])
    const [exception] = await failures()
    expect(exception).toContain(`Webhook POST to ${base}/… answered 404 Not Found: no_service`)
    expect(exception).not.toContain('S3CR3T')
  })
})

describe('formats of ones own', () => {
  it('posts what a function in config/events.ts makes of the redacted event', async () => {
    const app = await boot({ EVENTS_WEBHOOK_URLS: `${base}/discord`, EVENTS_WEBHOOK_EVENTS: 'UserSignedUp' }, (config) => {
      config.events.handlers.webhook.format = (event) => ({ content: `${event.name}: ${JSON.stringify(event.payload)}` })
    })
    await app.make('events').dispatch(signup())
    await workOff(app)
    expect(JSON.parse(received[0]!.raw)).toEqual({
      content: 'UserSignedUp: {"email":"ada@example.test","password":"[REDACTED]","card":{"number":"[REDACTED]"},"visits":"3"}',
    })
  })

  it('runs a second subscriber of another format beside the configured one, each to its own URLs', async () => {
    const app = await boot({ EVENTS_WEBHOOK_URLS: `${base}/audit`, EVENTS_WEBHOOK_EVENTS: 'UserSignedUp' })
    const { tries, backoff } = app.config.get('events').handlers.webhook
    // subscribe() on the instance: events.subscribe() takes one subscriber per class, and the configured one is in.
    new WebhookSubscriber({ urls: [`${base}/slack`], events: ['User*'], tries, backoff, format: 'slack', redact: app.make('events.redactor'), queue: () => app.make('queue') }).subscribe(app.make('events'))
    await app.make('events').dispatch(signup())
    await workOff(app)
    const byPath = Object.fromEntries(received.map((request) => [request.path, JSON.parse(request.raw) as Record<string, unknown>]))
    expect(Object.keys(byPath).sort()).toEqual(['/audit', '/slack'])
    expect(byPath['/audit']).toMatchObject({ name: 'UserSignedUp', payload: { password: '[REDACTED]' } })
    expect(byPath['/slack']).toEqual({ text: expect.stringMatching(/^UserSignedUp \{.*"password":"\[REDACTED\]"/) })
    // The one WebhookListener serves both.
    expect(app.make('events').getListeners('herald.webhook')).toHaveLength(1)
  })
})

describe('hostile endpoints', () => {
  it('does not follow a redirect: the event is not posted where it points, and the reason says why', async () => {
    const app = await boot({ EVENTS_WEBHOOK_URLS: `${base}/redirect`, EVENTS_WEBHOOK_EVENTS: 'UserSignedUp' })
    await app.make('events').dispatch(signup())
    await workOff(app)
    expect(received.map((request) => request.path)).toEqual(['/redirect', '/redirect'])
    expect(await failures()).toEqual([expect.stringContaining(`Webhook POST to ${base}/redirect answered 307 Temporary Redirect: redirects are not followed (to ${base})`)])
  })

  it('gives up on a server that never answers, or never finishes its answer, after EVENTS_WEBHOOK_TIMEOUT', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const app = await boot({ EVENTS_WEBHOOK_URLS: `${base}/hang,${base}/trickle`, EVENTS_WEBHOOK_EVENTS: 'UserSignedUp', EVENTS_WEBHOOK_TIMEOUT: '0.3' })
      // The dispatch only queues: it is done before any POST is made.
      await app.make('events').dispatch(signup())
      expect(received).toEqual([])
      const started = Date.now()
      await workOff(app)
      // 2 tries per URL, one after another, 0.3 s each: far below the job's own 30 s default.
      expect(Date.now() - started).toBeLessThan(10_000)
      expect((await failures()).sort()).toEqual([
        expect.stringContaining(`Webhook POST to ${base}/hang timed out after 0.3 s`),
        expect.stringContaining(`Webhook POST to ${base}/trickle timed out after 0.3 s`),
      ])
      expect(received.map((request) => request.path).sort()).toEqual(['/hang', '/hang', '/trickle', '/trickle'])
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('reads no more than 64 KiB of an answer that never ends, and quotes 200 characters of it', async () => {
    const app = await boot({ EVENTS_WEBHOOK_URLS: `${base}/flood`, EVENTS_WEBHOOK_EVENTS: 'UserSignedUp', EVENTS_WEBHOOK_TIMEOUT: '5' })
    await app.make('events').dispatch(signup())
    await workOff(app)
    const [exception] = await failures()
    // Not "timed out": the answer was cut off, not waited for.
    expect(exception).toContain(`Webhook POST to ${base}/flood answered 500 Internal Server Error: ${'y'.repeat(200)}…`)
    expect(exception).not.toContain('y'.repeat(201))
  })

  it('on the sync queue, a dispatch to a hanging server rejects once the timeout is spent, instead of hanging', async () => {
    const app = await boot({ QUEUE_CONNECTION: 'sync', EVENTS_WEBHOOK_URLS: `${base}/hang`, EVENTS_WEBHOOK_EVENTS: 'UserSignedUp', EVENTS_WEBHOOK_TIMEOUT: '0.2' })
    const started = Date.now()
    await expect(app.make('events').dispatch(signup())).rejects.toThrow(/Webhook POST to .*\/hang timed out after 0\.2 s/)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('refuses at boot a URL that is not http(s), one with a password, and a format it does not know', async () => {
    await expect(boot({ EVENTS_WEBHOOK_URLS: 'file:///etc/passwd' })).rejects.toThrow('Webhook URLs must be http or https, not file:')
    await expect(boot({ EVENTS_WEBHOOK_URLS: 'https://user:pa55word@hooks.example.com/in' })).rejects.toThrow(/holds a user or password/)
    await expect(boot({ EVENTS_WEBHOOK_URLS: 'https://user:pa55word@hooks.example.com/in' })).rejects.not.toThrow(/pa55word/)
    await expect(boot({ EVENTS_WEBHOOK_URLS: `${base}/x`, EVENTS_WEBHOOK_FORMAT: 'teams' })).rejects.toThrow('EVENTS_WEBHOOK_FORMAT must be one of json, slack, got "teams"')
  })
})
