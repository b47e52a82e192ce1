/**
 * Event-sourcing depth on SQLite and PostgreSQL: idempotent appends by an event's own id,
 * versioned events read back through their upcasters, aggregate snapshots, the history
 * filters (tag, stream, correlation) and pruning the dispatch log (streams kept).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AggregateRoot, Dispatchable, Migrator, createApplication, withEventContext, type Application, type EventStore, type Knex } from 'herald'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

class Deposited {
  constructor(
    readonly amount: number,
    readonly eventId?: string,
  ) {}
}

class Wallet extends AggregateRoot {
  balance = 0
  deposit(amount: number, commandId?: string): this {
    return this.record(new Deposited(amount, commandId))
  }
  applyDeposited(event: Deposited): void {
    this.balance += event.amount
  }
}

/** An application on its own database, the store on, its migrations run. */
async function bootMigrated(database: FreshDatabase): Promise<{ app: Application; knex: Knex }> {
  const app = createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent', QUEUE_CONNECTION: 'sync' },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: database.connection } }
      config.events.store = { ...config.events.store, enabled: true, table: 'stored_events', connection: null }
      config.events.redact = ['password']
    },
  })
  await app.boot()
  const knex = await app.make('db').connection()
  await new Migrator(knex, `${projectRoot}/database/migrations`).latest()
  return { app, knex }
}

describe.each<Dialect>(['sqlite', 'pgsql'])('event-sourcing depth on %s', (dialect) => {
  let database: FreshDatabase
  let app: Application
  let knex: Knex
  let store: EventStore

  beforeAll(async () => {
    database = await freshDatabase(dialect)
    ;({ app, knex } = await bootMigrated(database))
    store = app.make('events.store')
  })
  afterEach(async () => {
    await knex('stored_events').delete()
    app.make('events').flush()
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  describe('idempotent append', () => {
    it('does not append a new object whose eventId the stream holds; other streams may hold it too', async () => {
      const first = await store.append('wallet-1', [new Deposited(10, 'cmd-1')], 0)
      expect(first.appended.map((row) => [row.eventId, row.version])).toEqual([['cmd-1', 1]])
      expect(first.appended[0]!.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
      // The retried command: a new object with the same id, even with a stale expected version.
      expect(await store.append('wallet-1', [new Deposited(10, 'cmd-1')], 0)).toEqual({ version: 1, appended: [] })
      expect(await store.append('wallet-1', [new Deposited(10, 'cmd-1'), new Deposited(5, 'cmd-2')], 1)).toMatchObject({ version: 2 })
      expect((await store.load('wallet-1')).map(({ event }) => (event as Deposited).amount)).toEqual([10, 5])
      expect((await store.append('wallet-2', [new Deposited(1, 'cmd-1')], 0)).appended).toHaveLength(1)
      expect(await store.count()).toBe(3)
    })

    it('collapses one id given twice in a batch, and keeps ids of objects without eventId', async () => {
      const result = await store.append('wallet-3', [new Deposited(1, 'same'), new Deposited(2, 'same'), new Deposited(3)], 0)
      expect(result.appended.map((row) => row.version)).toEqual([1, 2])
      const [, plain] = await store.load('wallet-3')
      expect(plain!.event).toBeInstanceOf(Deposited)
      expect(await store.append('wallet-3', [plain!.event], 'any')).toEqual({ version: 2, appended: [] })
    })

    it('AggregateRoot: a retried command is stored and dispatched once', async () => {
      const heard: number[] = []
      app.make('events').listen(Deposited, (event: Deposited) => {
        heard.push(event.amount)
      })
      await (await Wallet.retrieve('wallet-4', store)).deposit(7, 'cmd-7').persist()
      const retried = await (await Wallet.retrieve('wallet-4', store)).deposit(7, 'cmd-7').persist()
      expect(retried.version).toBe(1)
      expect(heard).toEqual([7])
      expect((await Wallet.retrieve('wallet-4', store)).balance).toBe(7)
    })
  })
})
