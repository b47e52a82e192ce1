/**
 * GET /health checks the event store when it is on (EVENTS_STORE_ENABLED): its table must
 * answer, on the store's own connection. Over real HTTP on 127.0.0.1:0, SQLite for the
 * application, and for the store SQLite (up, then its table dropped), a PostgreSQL
 * connection nobody listens for (with a user and password that must not come out), and a
 * connection that is not configured. Off, there is no event_store check at all.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createApplication, createMigrator, type Application, type HeraldConfig, type Knex } from 'herald'
import { createApplicationHttpKernel } from '../../src/http/http-kernel.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const apps: Application[] = []
let database: FreshDatabase
let filename: string

beforeAll(async () => {
  database = await freshDatabase('sqlite')
  filename = (database.connection as { filename: string }).filename
})
afterEach(async () => {
  for (const app of apps.splice(0)) await app.shutdown()
})
afterAll(async () => {
  await database?.drop()
})

interface Served {
  readonly app: Application
  health(): Promise<{ status: number; body: Record<string, unknown>; raw: string }>
}

/** The application with these settings, booted and served; the sync queue needs no table. */
async function serve(env: Record<string, string>, configure?: (config: HeraldConfig) => void): Promise<Served> {
  const app = createApplication({
    basePath: root,
    envFile: false,
    env: { LOG_LEVEL: 'silent', EVENTS_DISCOVERY: 'false', BROADCAST_CONNECTION: 'null', QUEUE_CONNECTION: 'sync', DB_DATABASE: filename, ...env },
    ...(configure && { configure }),
  })
  apps.push(app)
  await app.boot()
  const kernel = await createApplicationHttpKernel(app)
  const { port } = await kernel.listen(0, '127.0.0.1')
  return {
    app,
    health: async () => {
      const response = await fetch(`http://127.0.0.1:${port}/health`)
      const raw = await response.text()
      return { status: response.status, body: JSON.parse(raw) as Record<string, unknown>, raw }
    },
  }
}

describe('GET /health with the event store on', () => {
  it('is 200 with event_store up while its table answers, and 503 with a reason once the table is gone', async () => {
    const { app, health } = await serve({ EVENTS_STORE_ENABLED: 'true' })
    await (await createMigrator(app)).latest()
    expect(await health()).toMatchObject({ status: 200, body: { status: 'up', checks: { database: 'up', queue: 'up', event_store: 'up' } } })
    expect((await health()).body).not.toHaveProperty('reasons')

    const db: Knex = await app.make('db').connection()
    await db.schema.dropTable('stored_events')
    const down = await health()
    expect(down.status).toBe(503)
    expect(down.body).toEqual({
      status: 'down',
      checks: { database: 'up', queue: 'up', event_store: 'down' },
      reasons: { event_store: 'The event store\'s table "stored_events" does not exist on connection "sqlite": run "artisan migrate".' },
    })
    // The driver's own words (with the file's path) stay inside.
    expect(down.raw).not.toContain(filename)
    expect(down.raw).not.toMatch(/no such table|SQLITE/)
  })

  it('names the store table of EVENTS_STORE_TABLE', async () => {
    const { health } = await serve({ EVENTS_STORE_ENABLED: 'true', EVENTS_STORE_TABLE: 'audit_events' })
    const down = await health()
    expect(down.status).toBe(503)
    expect((down.body.reasons as Record<string, string>).event_store).toContain('table "audit_events" does not exist')
  })

  it('is 503 for a store connection that does not answer, without its host, port, user or password', async () => {
    const { health } = await serve({ EVENTS_STORE_ENABLED: 'true', EVENTS_STORE_CONNECTION: 'events' }, (config) => {
      config.database.connections.events = { driver: 'pgsql', host: '127.0.0.1', port: 1, user: 'herald_admin', password: 'S3cr3t-pw', database: 'events_db' }
    })
    const down = await health()
    expect(down.status).toBe(503)
    expect(down.body).toMatchObject({ status: 'down', checks: { database: 'up', queue: 'up', event_store: 'down' } })
    expect((down.body.reasons as Record<string, string>).event_store).toMatch(
      /^The event store's table "stored_events" on connection "events" (could not be read|did not answer within 2 s)\.$/,
    )
    for (const secret of ['S3cr3t-pw', 'herald_admin', 'events_db', '127.0.0.1', ':1', 'ECONNREFUSED', 'postgres']) expect(down.raw).not.toContain(secret)
  })

  it('is 503 for a store connection that is not configured, saying where to configure it', async () => {
    const { health } = await serve({ EVENTS_STORE_ENABLED: 'true', EVENTS_STORE_CONNECTION: 'nowhere' })
    const down = await health()
    expect(down.status).toBe(503)
    expect(down.body.reasons).toEqual({ event_store: 'The event store\'s connection "nowhere" is not configured in config/database.ts (EVENTS_STORE_CONNECTION).' })
  })
})

describe('GET /health with the event store off', () => {
  it('has no event_store check, even with no table for it', async () => {
    const { health } = await serve({ EVENTS_STORE_ENABLED: 'false', EVENTS_STORE_TABLE: 'never_created' })
    expect(await health()).toMatchObject({ status: 200, body: { status: 'up', checks: { database: 'up', queue: 'up' } } })
    expect((await health()).body).toEqual({ status: 'up', checks: { database: 'up', queue: 'up' } })
  })
})
