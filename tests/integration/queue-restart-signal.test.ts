/**
 * The queue:restart signal (the `queue_signals` table) on SQLite, PostgreSQL and MariaDB: the
 * migration creates it, restart() writes strictly newer values in one row, lastRestart() reads
 * them (null before any, and on a database not yet migrated).
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DatabaseManager, Migrator } from 'herald'
import { UserError } from '../../src/foundation/errors.ts'
import { DatabaseRestartSignal } from '../../src/queue/restart-signal.ts'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

describe.each<Dialect>(['sqlite', 'pgsql', 'mysql'])('the restart signal on %s', (dialect) => {
  let database: FreshDatabase
  let db: DatabaseManager
  let signal: DatabaseRestartSignal

  beforeAll(async () => {
    database = await freshDatabase(dialect)
    db = new DatabaseManager({ default: 'main', connections: { main: database.connection } }, projectRoot)
    signal = new DatabaseRestartSignal(db)
  })
  afterAll(async () => {
    await db?.close()
    await database?.drop()
  })

  it('reads as never restarted before the migration, and restart() names the fix', async () => {
    expect(await signal.lastRestart()).toBeNull()
    await expect(signal.restart()).rejects.toThrow(
      new UserError('The table "queue_signals" does not exist on database connection "main": run "artisan migrate" (with --database=main if it is not the default).'),
    )
  })

  it('records each restart, strictly newer than the last, in one row', async () => {
    await new Migrator(await db.connection(), join(projectRoot, 'database/migrations')).latest()
    expect(await signal.lastRestart()).toBeNull()
    const at = Date.now()
    expect(await signal.restart(at)).toBe(at)
    expect(await signal.lastRestart()).toBe(at)
    // The same millisecond again (or a host whose clock is behind) still changes the value.
    expect(await signal.restart(at)).toBe(at + 1)
    expect(await signal.restart(at - 60_000)).toBe(at + 2)
    expect(await signal.lastRestart()).toBe(at + 2)
    const later = at + 3_600_000
    expect(await signal.restart(later)).toBe(later)
    expect(Number((await (await db.connection())('queue_signals').count({ n: '*' }).first())!.n)).toBe(1)
  })
})
