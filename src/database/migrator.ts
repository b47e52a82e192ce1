import type { Knex } from 'knex'
import { existsSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Application } from '../foundation/application.ts'
import { UserError } from '../foundation/errors.ts'
import { errorMessage } from '../foundation/error-message.ts'

/** A migration file: its name (the file name without extension) and where it is. */
interface MigrationFile {
  readonly name: string
  readonly path: string
}

/** One migration run by `latest` or `rollback`, with how long it took. */
export interface MigrationRun {
  readonly name: string
  readonly milliseconds: number
}

/** One migration as `migrate:status` shows it. */
export interface MigrationStatus {
  readonly name: string
  readonly ran: boolean
  /** The batch it ran in; null while pending. */
  readonly batch: number | null
  /** Recorded as run, but its file is gone from the migrations folder. */
  readonly missing: boolean
}

/** Where knex records what ran, named as in Laravel (knex adds `migrations_lock`). */
export const MIGRATIONS_TABLE = 'migrations'

const MIGRATION_FILE = /^(?!.*\.d\.[cm]?ts$).+\.(?:[cm]?ts|[cm]?js)$/

/**
 * Runs the project's migrations (database/migrations) with knex's migrator. The files are
 * TypeScript modules exporting `up(knex)` and `down(knex)`, imported dynamically (the CLI
 * registers the tsx loader for commands that boot), and named like Laravel's with a sortable
 * timestamp prefix: `2026_11_23_000001_create_jobs_table.ts` is recorded as
 * `2026_11_23_000001_create_jobs_table`, so the record does not depend on the extension (the
 * same migration compiled to `.js` elsewhere is still the same migration).
 *
 * ```ts
 * const migrator = new Migrator(await app.make('db').connection(), app.path('database/migrations'))
 * for (const { name, milliseconds } of await migrator.latest()) console.log(name, milliseconds)
 * ```
 */
export class Migrator {
  constructor(
    private readonly knex: Knex,
    readonly directory: string,
  ) {}

  /** Runs every pending migration as one new batch; resolves to those run, in order. */
  latest(): Promise<MigrationRun[]> {
    return this.run('up', (config) => this.knex.migrate.latest(config))
  }

  /** Reverts the last batch, newest first; resolves to those reverted. */
  rollback(): Promise<MigrationRun[]> {
    return this.run('down', (config) => this.knex.migrate.rollback(config))
  }

  /** Every migration file in order, with whether it ran and in which batch; then any ran whose file is gone. */
  async status(): Promise<MigrationStatus[]> {
    const source = new FileMigrationSource(this.directory)
    // list() creates the bookkeeping tables when they are missing, so a fresh database answers
    // "all pending" instead of failing on a missing table.
    await this.knex.migrate.list({ migrationSource: source, tableName: MIGRATIONS_TABLE, disableMigrationsListValidation: true })
    const rows: Array<{ name: string; batch: number | string }> = await this.knex(MIGRATIONS_TABLE).select('name', 'batch').orderBy('id')
    const batches = new Map(rows.map((row) => [row.name, Number(row.batch)]))
    const files = await source.getMigrations()
    const known = new Set(files.map((file) => file.name))
    return [
      ...files.map((file) => ({ name: file.name, ran: batches.has(file.name), batch: batches.get(file.name) ?? null, missing: false })),
      ...rows.filter((row) => !known.has(row.name)).map((row) => ({ name: row.name, ran: true, batch: Number(row.batch), missing: true })),
    ]
  }

  private async run(
    direction: 'up' | 'down',
    migrate: (config: Knex.MigratorConfigWithLifecycleHooks) => Promise<unknown>,
  ): Promise<MigrationRun[]> {
    const source = new FileMigrationSource(this.directory)
    const runs: MigrationRun[] = []
    let current: { name: string; started: number } | null = null
    const nameOf = (migrations: unknown[]) => (migrations[0] as MigrationFile).name
    try {
      await migrate({
        migrationSource: source,
        tableName: MIGRATIONS_TABLE,
        // knex's per-migration hooks are the one place that sees each migration start and end.
        beforeEach: async (_knex, migrations) => {
          current = { name: nameOf(migrations), started: performance.now() }
        },
        afterEach: async (_knex, migrations) => {
          runs.push({ name: nameOf(migrations), milliseconds: performance.now() - (current?.started ?? performance.now()) })
          current = null
        },
      })
    } catch (error) {
      throw explain(error, direction, current, this.directory)
    }
    return runs
  }
}

/** Turns knex's errors into ones that name the migration and the fix. */
function explain(error: unknown, direction: 'up' | 'down', current: { name: string } | null, directory: string): unknown {
  const message = errorMessage(error)
  const missing = /the following files are missing: (.*)$/.exec(message)
  if (missing) {
    return new UserError(
      `Migrations recorded as run have no file in ${directory}: ${missing[1]}. Restore the files, or delete their rows from the "${MIGRATIONS_TABLE}" table.`,
    )
  }
  if (message.includes('Migration table is already locked')) {
    return new UserError(
      `Another migration is running (the "${MIGRATIONS_TABLE}_lock" table is locked). If none is, set is_locked to 0 in that table and try again.`,
    )
  }
  if (current !== null) {
    return new UserError(`Migration ${current.name} failed (${direction}): ${message}`, { cause: error })
  }
  return error
}

/** knex's migration source for the project's folder, importing each module on demand. */
class FileMigrationSource implements Knex.MigrationSource<MigrationFile> {
  private readonly modules = new Map<string, Promise<Knex.Migration>>()

  constructor(private readonly directory: string) {}

  async getMigrations(): Promise<MigrationFile[]> {
    if (!existsSync(this.directory)) return []
    const files = readdirSync(this.directory).filter((file) => MIGRATION_FILE.test(file)).sort()
    const byName = new Map<string, MigrationFile>()
    for (const file of files) {
      const name = file.replace(/\.[cm]?[jt]s$/, '')
      const other = byName.get(name)
      if (other !== undefined) {
        throw new UserError(`Two files define migration ${name} in ${this.directory}: ${basename(other.path)} and ${file}. Keep one.`)
      }
      byName.set(name, { name, path: join(this.directory, file) })
    }
    return [...byName.values()]
  }

  getMigrationName(migration: MigrationFile): string {
    return migration.name
  }

  getMigration(migration: MigrationFile): Promise<Knex.Migration> {
    // knex asks for the same migration several times per run: import it once.
    let module = this.modules.get(migration.path)
    if (module === undefined) {
      module = this.load(migration)
      this.modules.set(migration.path, module)
    }
    return module
  }

  private async load(migration: MigrationFile): Promise<Knex.Migration> {
    const module = (await import(pathToFileURL(migration.path).href)) as Partial<Knex.Migration> & { default?: Partial<Knex.Migration> }
    const found = typeof module.up === 'function' ? module : module.default
    if (typeof found?.up !== 'function' || typeof found.down !== 'function') {
      throw new UserError(`Migration ${migration.path} must export async functions up(knex) and down(knex).`)
    }
    return found as Knex.Migration
  }
}

/**
 * The migrator for an application's database connection (the default one when no name is
 * given) and its database/migrations folder: what the migrate commands use.
 */
export async function createMigrator(app: Application, connection?: string): Promise<Migrator> {
  const db = app.make('db')
  // Checks the name first: a connection that failed to open would also fail the shutdown.
  db.driver(connection)
  return new Migrator(await db.connection(connection), app.path('database', 'migrations'))
}
