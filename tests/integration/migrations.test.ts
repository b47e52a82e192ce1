import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Migrator, createApplication, type Application } from 'herald'
import { runArtisan } from '../../src/console/kernel.ts'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

const migrations = join(projectRoot, 'database', 'migrations')
const JOBS = '2026_11_23_000001_create_jobs_table'
const FAILED = '2026_11_23_000002_create_failed_jobs_table'
/** Every migration the project comes with, in order. */
const PROJECT = [
  JOBS,
  FAILED,
  '2026_11_23_000003_create_orders_table',
  '2026_11_23_000004_create_outbox_table',
  '2026_11_23_000005_create_stored_events_table',
  '2026_12_03_000001_add_lease_to_jobs_table',
  '2026_12_04_000001_add_event_id_to_stored_events_table',
  '2026_12_04_000002_add_event_version_to_stored_events_table',
  '2026_12_04_000003_create_stored_events_snapshots_table',
  '2026_12_04_000004_create_event_bus_outbox_table',
  '2026_12_04_000030_create_cache_locks_table',
  '2026_12_04_000031_create_queue_signals_table',
  '2026_12_04_000032_create_job_batches_table',
]
/** One output line per project migration, as a regex source. */
const eachLine = (line: (name: string) => string, names: readonly string[] = PROJECT) => names.map(line).join('')

/** An application whose default database connection is `database` (and `other`, when given). */
function makeApp(database: FreshDatabase, other?: FreshDatabase): Application {
  return createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' },
    configure: (config) => {
      config.database = {
        default: 'main',
        connections: { main: database.connection, ...(other ? { other: other.connection } : {}) },
      }
    },
  })
}

/** Runs an artisan command in-process against a fresh application of `database`; captures its output. */
async function artisan(args: string[], database: FreshDatabase, other?: FreshDatabase) {
  let stdout = ''
  let stderr = ''
  const code = await runArtisan(args, {
    cwd: projectRoot,
    streams: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } },
    boot: async () => {
      const app = makeApp(database, other)
      await app.boot()
      return app
    },
  })
  return { code, stdout, stderr }
}

async function tables(app: Application, connection?: string): Promise<Record<string, boolean>> {
  const knex = await app.make('db').connection(connection)
  return { jobs: await knex.schema.hasTable('jobs'), failed_jobs: await knex.schema.hasTable('failed_jobs') }
}

describe.each<Dialect>(['sqlite', 'pgsql'])('migrations on %s', (dialect) => {
  let database: FreshDatabase
  let app: Application
  let migrator: Migrator

  beforeAll(async () => {
    database = await freshDatabase(dialect)
    app = makeApp(database)
    await app.boot()
    migrator = new Migrator(await app.make('db').connection(), migrations)
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('runs pending migrations as one batch, reports them in status, and rolls the batch back', async () => {
    expect(await migrator.status()).toEqual(PROJECT.map((name) => ({ name, ran: false, batch: null, missing: false })))

    const ran = await migrator.latest()
    expect(ran.map((run) => run.name)).toEqual(PROJECT)
    for (const run of ran) expect(run.milliseconds).toBeGreaterThanOrEqual(0)
    expect(await tables(app)).toEqual({ jobs: true, failed_jobs: true })
    expect(await migrator.status()).toEqual(PROJECT.map((name) => ({ name, ran: true, batch: 1, missing: false })))
    expect(await migrator.latest()).toEqual([])

    const rolledBack = await migrator.rollback()
    expect(rolledBack.map((run) => run.name)).toEqual([...PROJECT].reverse())
    expect(await tables(app)).toEqual({ jobs: false, failed_jobs: false })
    expect((await migrator.status()).every((migration) => !migration.ran)).toBe(true)
    expect(await migrator.rollback()).toEqual([])
  })

  it('creates the columns the queue needs', async () => {
    await migrator.latest()
    const knex = await app.make('db').connection()
    const jobs = await knex('jobs').columnInfo()
    expect(Object.keys(jobs).sort()).toEqual(['attempts', 'available_at', 'created_at', 'id', 'lease_expires_at', 'payload', 'queue', 'reserved_at'])
    expect(jobs.reserved_at!.nullable).toBe(true)
    expect(jobs.lease_expires_at!.nullable).toBe(true)
    expect(jobs.available_at!.nullable).toBe(false)
    // Epoch milliseconds do not fit 32 bits: the time columns must take them.
    const later = Date.now() + 1000
    await knex('jobs').insert({ queue: 'q', payload: 'x', attempts: 0, available_at: later, created_at: later })
    expect(Number((await knex('jobs').first('available_at'))!.available_at)).toBe(later)
    const failed = await knex('failed_jobs').columnInfo()
    expect(Object.keys(failed).sort()).toEqual(['connection', 'exception', 'failed_at', 'id', 'payload', 'queue', 'uuid'])
    await knex('failed_jobs').insert({ uuid: 'same', connection: 'c', queue: 'q', payload: 'p', exception: 'e' })
    await expect(knex('failed_jobs').insert({ uuid: 'same', connection: 'c', queue: 'q', payload: 'p', exception: 'e' })).rejects.toThrow()
    // The event store: one version per stream, any number of rows outside streams.
    const stored = await knex('stored_events').columnInfo()
    expect(Object.keys(stored).sort()).toEqual(['causation_id', 'correlation_id', 'event_id', 'event_version', 'id', 'name', 'occurred_at', 'payload', 'stream_id', 'tags', 'version'])
    const row = (id: string, stream: string | null, version: number | null) => ({ id, name: 'E', payload: '{}', tags: '[]', correlation_id: id, stream_id: stream, version, occurred_at: later })
    await knex('stored_events').insert([row('A', null, null), row('B', null, null), row('C', 's', 1)])
    await expect(knex('stored_events').insert(row('D', 's', 1))).rejects.toThrow()
    // One event id per stream: a retried append cannot store an event twice.
    await knex('stored_events').update({ event_id: 'e-1' }).where('id', 'C')
    await expect(knex('stored_events').insert({ ...row('E', 's', 2), event_id: 'e-1' })).rejects.toThrow()
    await knex('stored_events').insert({ ...row('F', 't', 1), event_id: 'e-1' })
    await migrator.rollback()
  })
})

describe('artisan migrate, migrate:status, migrate:rollback', () => {
  let database: FreshDatabase
  let other: FreshDatabase

  beforeAll(async () => {
    database = await freshDatabase('sqlite')
    other = await freshDatabase('sqlite')
  })
  afterAll(async () => {
    await database?.drop()
    await other?.drop()
  })

  it('print what they did, like Laravel', async () => {
    const pending = await artisan(['migrate:status'], database)
    expect(pending.code).toBe(0)
    expect(pending.stdout).toMatch(new RegExp(`^Migration name \\.+ Batch / Status\n${eachLine((name) => `${name} \\.+ Pending\n`)}$`))

    const migrate = await artisan(['migrate'], database)
    expect(migrate).toMatchObject({ code: 0, stderr: '' })
    expect(migrate.stdout).toMatch(new RegExp(`^${eachLine((name) => `Migrated: ${name} \\(\\d+ ms\\)\n`)}$`))
    expect((await artisan(['migrate'], database)).stdout).toBe('Nothing to migrate.\n')

    const status = await artisan(['migrate:status'], database)
    expect(status.stdout).toMatch(new RegExp(`\n${eachLine((name) => `${name} \\.+ \\[1\\] Ran\n`)}$`))

    const rollback = await artisan(['migrate:rollback'], database)
    expect(rollback).toMatchObject({ code: 0, stderr: '' })
    expect(rollback.stdout).toMatch(new RegExp(`^${eachLine((name) => `Rolled back: ${name} \\(\\d+ ms\\)\n`, [...PROJECT].reverse())}$`))
    expect((await artisan(['migrate:rollback'], database)).stdout).toBe('Nothing to rollback.\n')
  })

  it('--database picks the connection, and an unknown one is a one-line error', async () => {
    const migrate = await artisan(['migrate', '--database=other'], database, other)
    expect(migrate.code).toBe(0)
    expect(migrate.stdout).toContain(`Migrated: ${JOBS}`)
    const app = makeApp(database, other)
    await app.boot()
    try {
      expect(await tables(app, 'other')).toEqual({ jobs: true, failed_jobs: true })
      expect(await tables(app, 'main')).toEqual({ jobs: false, failed_jobs: false })
    } finally {
      await app.shutdown()
    }
    const unknown = await artisan(['migrate', '--database=nope'], database)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe('Database connection "nope" is not configured in config/database.ts.\n')
  })
})

describe('the migrator', () => {
  /** A migrator over its own SQLite database and migrations folder, removed afterwards. */
  async function withMigrator(test: (migrator: Migrator, dir: string, app: Application) => Promise<void>): Promise<void> {
    const database = await freshDatabase('sqlite')
    const dir = mkdtempSync(join(tmpdir(), 'herald-migrations-'))
    const app = makeApp(database)
    try {
      await app.boot()
      await test(new Migrator(await app.make('db').connection(), dir), dir, app)
    } finally {
      await app.shutdown()
      await database.drop()
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it('names a failing migration, keeps the batch out, and names a ran migration whose file is gone', () =>
    withMigrator(async (migrator, dir, app) => {
      expect(await migrator.status()).toEqual([])
      expect(await migrator.latest()).toEqual([])

      writeFileSync(
        join(dir, '2026_01_01_000001_create_notes.ts'),
        `export async function up(knex) { await knex.schema.createTable('notes', (t) => { t.increments('id') }) }\nexport async function down(knex) { await knex.schema.dropTable('notes') }\n`,
      )
      writeFileSync(join(dir, '2026_01_01_000002_broken.ts'), `export async function up(knex) { await knex.raw('create tabel oops (id int)') }\nexport async function down() {}\n`)
      await expect(migrator.latest()).rejects.toThrow(/^Migration 2026_01_01_000002_broken failed \(up\): .*syntax error/)
      // SQLite migrations run in one transaction: the first one is undone with the broken one.
      const knex = await app.make('db').connection()
      expect(await knex.schema.hasTable('notes')).toBe(false)
      expect((await migrator.status()).map((migration) => migration.ran)).toEqual([false, false])

      rmSync(join(dir, '2026_01_01_000002_broken.ts'))
      expect((await migrator.latest()).map((run) => run.name)).toEqual(['2026_01_01_000001_create_notes'])
      rmSync(join(dir, '2026_01_01_000001_create_notes.ts'))
      expect(await migrator.status()).toEqual([{ name: '2026_01_01_000001_create_notes', ran: true, batch: 1, missing: true }])
      await expect(migrator.rollback()).rejects.toThrow(
        `Migrations recorded as run have no file in ${dir}: 2026_01_01_000001_create_notes. Restore the files, or delete their rows from the "migrations" table.`,
      )
    }))

  it('refuses a module without up and down, and two files for one migration', () =>
    withMigrator(async (migrator, dir) => {
      writeFileSync(join(dir, '2026_01_01_000001_half.ts'), 'export async function up() {}\n')
      await expect(migrator.latest()).rejects.toThrow(`Migration ${join(dir, '2026_01_01_000001_half.ts')} must export async functions up(knex) and down(knex).`)
      writeFileSync(join(dir, '2026_01_01_000001_half.js'), 'export async function up() {}\n')
      await expect(migrator.status()).rejects.toThrow(`Two files define migration 2026_01_01_000001_half in ${dir}`)
    }))
})

describe('bin/artisan migrate (the real CLI, TypeScript migrations through tsx)', () => {
  let database: FreshDatabase
  beforeAll(async () => {
    database = await freshDatabase('sqlite')
  })
  afterAll(async () => database?.drop())

  it('migrates a SQLite file named in the environment', async () => {
    const filename = (database.connection as { filename: string }).filename
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['bin/artisan', ...args],
          { cwd: projectRoot, env: { ...process.env, DB_CONNECTION: 'sqlite', DB_DATABASE: filename, NO_COLOR: '1' }, timeout: 30_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 2) : 0, stdout, stderr }),
        )
      })
    const migrate = await run(['migrate'])
    expect(migrate.stderr).toBe('')
    expect(migrate.code).toBe(0)
    expect(migrate.stdout).toMatch(new RegExp(`^${eachLine((name) => `Migrated: ${name} \\(\\d+ ms\\)\n`)}$`))
    const status = await run(['migrate:status'])
    expect(status.stdout).toContain(`${FAILED} `)
    expect(status.stdout).toMatch(/\[1\] Ran\n$/)
  })
})
