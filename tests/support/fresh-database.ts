import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import knex from 'knex'
import type { DatabaseConnectionConfig } from '../../src/foundation/config.ts'

export type Dialect = DatabaseConnectionConfig['driver']

/** The local services the integration suites use (see .ci/run). */
const servers = {
  pgsql: { driver: 'pgsql', host: '127.0.0.1', port: 5432, user: 'postgres', password: '', database: 'test' },
  mysql: { driver: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' },
} as const

export interface FreshDatabase {
  /** A connection for config/database.ts, to a database no other test run uses. */
  readonly connection: DatabaseConnectionConfig
  /** Drops the database (or deletes the SQLite file). */
  drop(): Promise<void>
}

/**
 * An empty database of its own for one test file: a file in a temp folder for SQLite, a new
 * database on the local PostgreSQL or MariaDB server otherwise, so suites never see each
 * other's tables. An absent server fails here, loudly: these suites are never skipped.
 */
export async function freshDatabase(dialect: Dialect): Promise<FreshDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'herald-db-'))
    return {
      connection: { driver: 'sqlite', filename: join(dir, 'database.sqlite') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  const server = servers[dialect]
  const name = `herald_test_${randomBytes(6).toString('hex')}`
  const admin = () =>
    knex({
      client: dialect === 'pgsql' ? 'pg' : 'mysql2',
      connection: { host: server.host, port: server.port, user: server.user, password: server.password, database: server.database },
      pool: { min: 0, max: 1 },
    })
  const setup = admin()
  try {
    await setup.raw(`create database ${name}`)
  } catch (error) {
    throw new Error(
      `Could not create a test database on ${dialect} at ${server.host}:${server.port} (${String(error)}): is the server running? (.ci/run starts it)`,
    )
  } finally {
    await setup.destroy()
  }
  return {
    connection: { ...server, database: name },
    drop: async () => {
      const teardown = admin()
      try {
        await teardown.raw(dialect === 'pgsql' ? `drop database if exists ${name} with (force)` : `drop database if exists ${name}`)
      } finally {
        await teardown.destroy()
      }
    },
  }
}
