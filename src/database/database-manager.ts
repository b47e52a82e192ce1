import type { Knex } from 'knex'
import { isAbsolute, join } from 'node:path'
import type { DatabaseConfig, DatabaseConnectionConfig } from '../foundation/config.ts'
import { UserError } from '../foundation/errors.ts'
import { LazyConnections } from '../foundation/lazy-connections.ts'
import { knexLog } from './knex-log.ts'
import { safeAddress } from '../foundation/service-errors.ts'
import { currentTransaction, runInTransaction } from './transactions.ts'

/** The knex `client` for each configured driver. */
const clients: Record<DatabaseConnectionConfig['driver'], string> = {
  sqlite: 'better-sqlite3',
  pgsql: 'pg',
  mysql: 'mysql2',
}

/**
 * The application's database connections (knex), made on first use: knex and the database
 * driver are imported only then, so commands that never touch the database never load them.
 */
export class DatabaseManager {
  private readonly connections = new LazyConnections<Knex>((name) => this.open(name))

  constructor(
    private readonly config: DatabaseConfig,
    private readonly basePath: string,
  ) {}

  /** The name of the default connection. */
  get defaultConnection(): string {
    return this.config.default
  }

  /** The driver of a connection: sqlite, pgsql or mysql. */
  driver(name = this.config.default): DatabaseConnectionConfig['driver'] {
    return this.settings(name).driver
  }

  /** Where a connection points, without credentials, for error messages: `127.0.0.1:5432`, or the SQLite file. */
  address(name = this.config.default): string {
    const settings = this.settings(name)
    return settings.driver === 'sqlite' ? settings.filename : safeAddress(undefined, settings.host, settings.port)
  }

  /** A knex instance for the connection (the default one when no name is given). */
  connection(name = this.config.default): Promise<Knex> {
    return this.connections.get(name)
  }

  /**
   * Runs `fn` in a transaction. Work declared after-commit inside it (ShouldDispatchAfterCommit
   * events, afterCommit listeners) runs once it commits and is dropped on rollback.
   */
  async transaction<T>(fn: (trx: Knex.Transaction) => Promise<T> | T, connection?: string): Promise<T> {
    const knex = await this.connection(connection)
    // Inside an outer transaction on this connection, nest as a savepoint of it.
    const outer = currentTransaction<Knex.Transaction>(knex)
    return runInTransaction<T, Knex.Transaction>((body) => (outer ?? knex).transaction(body), fn, knex)
  }

  /** Closes every connection opened. */
  async close(): Promise<void> {
    await this.connections.closeAll((knex) => knex.destroy(), 'database connections')
  }

  private settings(name: string): DatabaseConnectionConfig {
    const settings = this.config.connections[name]
    if (settings === undefined) {
      throw new UserError(`Database connection "${name}" is not configured in config/database.ts.`)
    }
    return settings
  }

  private async open(name: string): Promise<Knex> {
    const settings = this.settings(name)
    const { default: knex } = await import('knex')
    if (settings.driver === 'sqlite') {
      const filename = isAbsolute(settings.filename) || settings.filename === ':memory:' ? settings.filename : join(this.basePath, settings.filename)
      const db = knex({ client: clients.sqlite, connection: { filename }, useNullAsDefault: true, pool: { min: 1, max: 1 }, log: knexLog })
      // WAL lets readers run beside the writer; busy_timeout makes a second process wait
      // for the lock instead of failing at once.
      await db.raw('PRAGMA journal_mode = WAL')
      await db.raw('PRAGMA busy_timeout = 5000')
      return db
    }
    const { host, port, user, password, database } = settings
    return knex({ client: clients[settings.driver], connection: { host, port, user, password, database }, pool: { min: 0, max: 10 }, log: knexLog })
  }
}
