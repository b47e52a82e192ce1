import { Migrator, createApplication, type Application, type Knex } from 'herald'
import { runArtisan } from '../../src/console/kernel.ts'
import type { FreshDatabase } from './fresh-database.ts'
import { projectRoot } from './project-copy.ts'

/** An application on its own database, the store on. */
export function makeApp(database: FreshDatabase, retention: number | null = null): Application {
  return createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent', QUEUE_CONNECTION: 'sync' },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: database.connection } }
      config.events.store = { ...config.events.store, enabled: true, table: 'stored_events', connection: null, retention }
      config.events.redact = ['password']
    },
  })
}

/** Runs an artisan command in-process on its own application of `database`; captures its output. */
export async function artisan(args: string[], database: FreshDatabase, retention: number | null = null): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await runArtisan(args, {
    cwd: projectRoot,
    streams: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } },
    boot: async () => {
      const app = makeApp(database, retention)
      await app.boot()
      return app
    },
  })
  return { code, stdout, stderr }
}

/** The application booted, its database migrated with the project's migrations. */
export async function bootMigrated(database: FreshDatabase): Promise<{ app: Application; knex: Knex }> {
  const app = makeApp(database)
  await app.boot()
  const knex = await app.make('db').connection()
  await new Migrator(knex, `${projectRoot}/database/migrations`).latest()
  return { app, knex }
}

