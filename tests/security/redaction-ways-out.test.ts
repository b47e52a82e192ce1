/**
 * Secrets in an event's payload never leave the process unmasked, whatever way out: the log
 * line, the JSON-lines file, the webhook's body (in the jobs table and as posted), the stored
 * event, a failed job's error (failed_jobs, the worker's report) and a dispatch's
 * AggregateError. The framework's default rules only, spelled the ways applications spell
 * them (`apiKey`, `API-KEY`, `accessToken`, `Authorization`), with a configured mask. SQLite,
 * the database queue, a real worker and a real HTTP receiver; nothing is mocked.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Dispatchable, Listener, ShouldQueue, createApplication, createLogger, createMigrator, type Application, type Knex } from 'herald'
import type { JobReport } from '../../src/queue/job-hooks.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'
import { testWorker } from '../support/test-worker.ts'

const MASK = '[hidden]'
/** Every secret the payloads below carry: none may appear in anything written or sent. */
const SECRETS = ['ak_live_camel_1111', 'ak_live_kebab_2222', 'at_live_3333', 'Bearer tok_live_4444', 'ak_live_snake_5555', 'rt_live_6666']

class AccountConnected extends Dispatchable {
  constructor(
    readonly accountId: number,
    readonly apiKey: string,
    readonly headers: Record<string, string>,
    readonly accessToken: string,
    readonly nested: { api_key: string; refreshToken: string; plan: string },
  ) {
    super()
  }
}

function connected(accountId: number): AccountConnected {
  return new AccountConnected(
    accountId,
    'ak_live_camel_1111',
    { 'API-KEY': 'ak_live_kebab_2222', Authorization: 'Bearer tok_live_4444', Accept: 'application/json' },
    'at_live_3333',
    { api_key: 'ak_live_snake_5555', refreshToken: 'rt_live_6666', plan: 'pro' },
  )
}

/** What every way out must show for `connected(id)`: the secrets masked, the rest as it was. */
function maskedPayload(accountId: number) {
  return {
    accountId,
    apiKey: MASK,
    headers: { 'API-KEY': MASK, Authorization: MASK, Accept: 'application/json' },
    accessToken: MASK,
    nested: { api_key: MASK, refreshToken: MASK, plan: 'pro' },
  }
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text, `"${secret}" leaked`).not.toContain(secret)
}

/** A queued listener whose failure quotes the payload, as real ones do. */
class SyncAccount extends ShouldQueue(Listener.for(AccountConnected)) {
  tries = 1
  handle(event: AccountConnected) {
    throw new Error(`Provider refused key ${event.apiKey} (token ${event.accessToken}) for account ${event.accountId}`)
  }
}

class TokenUsed extends Dispatchable {
  constructor(readonly accessToken: string) {
    super()
  }
}

let database: FreshDatabase
let app: Application
let db: Knex
let folder: string
let receiver: Server
let base: string
const posted: string[] = []
const logged: string[] = []

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      posted.push(Buffer.concat(chunks).toString('utf8'))
      response.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  folder = mkdtempSync(join(tmpdir(), 'herald-redaction-'))
  database = await freshDatabase('sqlite')
  app = createApplication({
    basePath: projectRoot,
    envFile: false,
    // The framework's defaults (not the demo's config/events.ts): what a new application gets.
    loadConfig: false,
    env: {
      EVENTS_DISCOVERY: 'false',
      LOG_LEVEL: 'info',
      QUEUE_CONNECTION: 'database',
      EVENTS_REDACT_MASK: MASK,
      EVENTS_LOG_ENABLED: 'true',
      EVENTS_JSONL_PATH: join(folder, 'events.jsonl'),
      EVENTS_WEBHOOK_URLS: `${base}/hook`,
      EVENTS_WEBHOOK_EVENTS: 'AccountConnected',
      EVENTS_STORE_ENABLED: 'true',
    },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: database.connection } }
    },
  })
  await app.boot()
  app.logger = createLogger('info', (line) => logged.push(line))
  await (await createMigrator(app)).latest()
  db = await app.make('db').connection()
  app.make('events').listen(AccountConnected, SyncAccount)

  await app.make('events').dispatch(connected(7))
})

afterAll(async () => {
  await app?.shutdown()
  await database?.drop()
  await new Promise((resolve) => receiver?.close(resolve))
  if (folder) rmSync(folder, { recursive: true, force: true })
})

describe('redaction on every way out (default rules, EVENTS_REDACT_MASK)', () => {
  it('the log line (EVENTS_LOG_ENABLED)', () => {
    const line = logged.find((entry) => entry.includes('event AccountConnected'))
    expect(line).toBeDefined()
    expectNoSecret(line!)
    expect(JSON.parse(/^\[info\] event AccountConnected \S+ (.*)$/.exec(line!)![1]!)).toEqual(maskedPayload(7))
  })

  it('the JSON-lines file (EVENTS_JSONL_PATH)', async () => {
    // Buffered: written within the flush interval.
    const path = join(folder, 'events.jsonl')
    await expect.poll(() => {
      try {
        return readFileSync(path, 'utf8').includes('AccountConnected')
      } catch {
        return false
      }
    }, { timeout: 10_000, interval: 50 }).toBe(true)
    const text = readFileSync(path, 'utf8')
    expectNoSecret(text)
    const line = text.split('\n').map((entry) => (entry === '' ? null : (JSON.parse(entry) as { name: string; payload: unknown }))).find((entry) => entry?.name === 'AccountConnected')
    expect(line!.payload).toEqual(maskedPayload(7))
  })

  it('the stored event (EVENTS_STORE_ENABLED), in the row itself', async () => {
    const rows = (await db('stored_events').where('name', 'AccountConnected').select('*')) as Record<string, unknown>[]
    expect(rows).toHaveLength(1)
    expectNoSecret(JSON.stringify(rows[0]))
    const [stored] = await app.make('events.store').history({ events: ['AccountConnected'] })
    // The store's tagged JSON: the class name, and the event's own (masked) fields.
    expect(stored!.payload).toEqual({ $t: 'Event', name: 'AccountConnected', v: maskedPayload(7) })
  })

  it('the webhook body, queued and as posted, and the failed job of a listener that quotes the payload', async () => {
    // Queued: the body is already masked in the jobs table; the listener's job holds the
    // event itself, which its own listener needs (a listener is the event's audience).
    const jobs = (await db('jobs').select('payload')) as { payload: string }[]
    const webhookJob = jobs.find((job) => job.payload.includes('"herald.webhook"'))
    expect(webhookJob).toBeDefined()
    expectNoSecret(webhookJob!.payload)

    const reports: JobReport[] = []
    const worker = testWorker(app.make('queue'), { onJob: (report) => reports.push(report) })
    const running = worker.run()
    try {
      await expect.poll(async () => Number(((await db('jobs').count({ n: '*' })) as { n: number | string }[])[0]!.n), { timeout: 20_000, interval: 50 }).toBe(0)
    } finally {
      await worker.stop()
      await running
    }

    expect(posted).toHaveLength(1)
    expectNoSecret(posted[0]!)
    expect((JSON.parse(posted[0]!) as { payload: unknown }).payload).toEqual(maskedPayload(7))

    // The listener's failure: failed_jobs' exception and the worker's report are masked.
    const failed = await (await app.make('queue').failedJobs()).all()
    expect(failed).toHaveLength(1)
    expectNoSecret(failed[0]!.exception)
    expect(failed[0]!.exception).toContain(`Error: Provider refused key ${MASK} (token ${MASK}) for account 7`)
    const report = reports.find((entry) => entry.status === 'FAIL')
    expect(report?.error).toBe(`Provider refused key ${MASK} (token ${MASK}) for account 7`)
    // The stored payload still lets `queue:retry` run the listener on the real event.
    expect(failed[0]!.payload).toContain('ak_live_camel_1111')
  })

  it("a dispatch's AggregateError message (what a web server logs); the listener's own error as thrown", async () => {
    const events = app.make('events')
    const thrown = new Error('token at_live_3333 expired')
    events.listen(TokenUsed, () => {
      throw thrown
    })
    const failure = (await events.dispatch(new TokenUsed('at_live_3333')).catch((error: unknown) => error)) as AggregateError
    expect(failure).toBeInstanceOf(AggregateError)
    expect(failure.message).toBe(`1 listener failed for event "TokenUsed": Closure (token ${MASK} expired)`)
    expectNoSecret(failure.stack ?? '')
    expect(failure.errors).toEqual([thrown])
  })
})
