/**
 * The dispatch log's reads and retention on SQLite, PostgreSQL and MariaDB: the history
 * filters (tag, stream, correlation id), in code and through `artisan event:history`, and
 * `event:prune`, which deletes old dispatch-log rows and never a stream's.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AggregateRoot, Dispatchable, withEventContext, type Application, type EventStore, type Knex } from 'herald'
import { ulid } from '../../src/foundation/ulid.ts'
import { artisan, bootMigrated } from '../support/event-store-app.ts'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'

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

class Billed extends Dispatchable {
  static readonly tags = ['billing', '100%_off', 'a!b']
}
class Shipped extends Dispatchable {
  static readonly tags = ['shipping']
}

describe.each<Dialect>(['sqlite', 'pgsql', 'mysql'])('the dispatch log on %s', (dialect) => {
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

  describe('history filters', () => {
    async function seed(): Promise<{ chain: string[] }> {
      const events = app.make('events')
      await events.dispatch(new Billed())
      await withEventContext({ correlationId: 'chain-1' }, async () => {
        await events.dispatch(new Shipped())
        await events.dispatch('note.added', { text: 'in the chain' })
      })
      await store.append('wallet-9', [new Deposited(1), new Deposited(2)], 0)
      const chain = (await store.history({ correlationId: 'chain-1' })).map((row) => row.name)
      return { chain }
    }

    it('by tag (a whole tag, wildcards literal), by stream, by correlation id', async () => {
      const { chain } = await seed()
      const names = async (filter: Parameters<EventStore['history']>[0]) => (await store.history(filter)).map((row) => row.name)
      expect(await names({ tag: 'billing' })).toEqual(['Billed'])
      expect(await names({ tag: 'shipping' })).toEqual(['Shipped'])
      expect(await names({ tag: 'bill' })).toEqual([])
      expect(await names({ tag: '100%_off' })).toEqual(['Billed'])
      expect(await names({ tag: '100%' })).toEqual([])
      expect(await names({ tag: '100__off' })).toEqual([])
      expect(await names({ tag: 'a!b' })).toEqual(['Billed'])
      expect(chain).toEqual(['Shipped', 'note.added'])
      expect((await store.history({ streamId: 'wallet-9' })).map((row) => row.version)).toEqual([1, 2])
      expect(await names({ streamId: 'wallet-9', correlationId: 'chain-1' })).toEqual([])
      expect(await store.count({ tag: 'billing' })).toBe(1)
    })

    it('artisan event:history --tag --stream --correlation', async () => {
      await seed()
      const json = async (...args: string[]) => {
        const run = await artisan(['event:history', '--json', ...args], database)
        expect(run.stderr).toBe('')
        return (JSON.parse(run.stdout) as Array<{ name: string; version: number | null }>).map((row) => `${row.name}${row.version === null ? '' : `@${row.version}`}`)
      }
      expect(await json('--tag=billing')).toEqual(['Billed'])
      expect(await json('--stream=wallet-9')).toEqual(['Deposited@2', 'Deposited@1'])
      expect(await json('--correlation=chain-1')).toEqual(['note.added', 'Shipped'])
      expect(await json('--correlation=chain-1', '--event=Shipped')).toEqual(['Shipped'])
      const bad = await artisan(['event:history', '--tag='], database)
      expect(bad.code).toBe(1)
      expect(bad.stderr.trim()).toBe('--tag needs a value of 1 to 255 characters, e.g. --tag=orders, got "".')
    })
  })

  describe('retention: event:prune', () => {
    const DAY = 86_400_000
    /** Dispatch-log rows (no stream) that occurred `daysAgo` days ago. */
    async function logRows(count: number, daysAgo: number, name: string): Promise<void> {
      const at = Date.now() - daysAgo * DAY
      const rows = Array.from({ length: count }, () => ({ id: ulid(at), name, payload: '{}', tags: '[]', correlation_id: 'c', occurred_at: at }))
      await knex.batchInsert('stored_events', rows, 100)
    }
    async function seed(): Promise<void> {
      await logRows(3, 100, 'Old')
      await logRows(2, 10, 'Recent')
      await store.append('kept-stream', [new Deposited(1), new Deposited(2)], 0)
      await knex('stored_events').where('stream_id', 'kept-stream').update({ occurred_at: Date.now() - 400 * DAY })
    }
    const left = async () => (await store.history()).map((row) => row.streamId ?? row.name)

    it('deletes dispatch-log rows older than the age, never a stream\'s, in batches', async () => {
      await seed()
      await logRows(1205, 200, 'Older')
      expect(await store.prune(new Date(Date.now() - 90 * DAY))).toBe(1208)
      expect((await left()).sort()).toEqual(['Recent', 'Recent', 'kept-stream', 'kept-stream'])
      expect((await Wallet.retrieve('kept-stream', store)).balance).toBe(3)
      expect(await store.prune(new Date(Date.now() - 90 * DAY))).toBe(0)
    })

    it('artisan event:prune --older-than, else events.store.retention, else says what it needs', async () => {
      await seed()
      const flagged = await artisan(['event:prune', '--older-than=90d'], database, 5)
      expect(flagged.stderr).toBe('')
      expect(flagged.stdout).toMatch(/^Pruned 3 stored event\(s\) from before \d{4}-\d\d-\d\dT[\d:.]+Z; stream events are kept\.\n$/)
      expect((await left()).filter((name) => name === 'Recent')).toHaveLength(2)

      const configured = await artisan(['event:prune'], database, 5)
      expect(configured.stdout).toMatch(/^Pruned 2 stored event\(s\)/)
      expect((await left()).sort()).toEqual(['kept-stream', 'kept-stream'])

      const unset = await artisan(['event:prune'], database)
      expect([unset.code, unset.stderr.trim()]).toEqual([1, 'event:prune needs an age: pass --older-than=90d, or set EVENTS_STORE_RETENTION_DAYS in .env.'])
      for (const age of ['90', '0d', '-1d', '2w', '99999999d']) {
        const bad = await artisan(['event:prune', `--older-than=${age}`], database)
        expect(bad.code).toBe(1)
        expect(bad.stderr).toContain('--older-than must be an age in days or hours such as 90d or 12h')
      }
      expect(await store.count()).toBe(2)
    })
  })
})
