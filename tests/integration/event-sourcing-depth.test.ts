/**
 * Event-sourcing depth on SQLite, PostgreSQL and MariaDB: idempotent appends by an event's own id,
 * versioned events read back through their upcasters (loads and replays), and aggregate
 * snapshots. The history filters and event:prune are in event-store-log.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AggregateRoot, EventReplayer, REDACTED, type Application, type EventStore, type Knex } from 'herald'
import type { Upcasters } from '../../src/events/store/upcasting.ts'
import { bootMigrated } from '../support/event-store-app.ts'
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

class Entered {
  constructor(
    readonly account: string,
    readonly amount: number,
    readonly at: Date,
  ) {}
}

/** Snapshots every 3 events, its state plain data the serializer keeps (a Map, a Date). */
class Ledger extends AggregateRoot {
  static snapshotEvery = 3
  static applied = 0
  total = 0
  perAccount = new Map<string, number>()
  lastAt: Date | null = null
  enter(account: string, amount: number): this {
    return this.record(new Entered(account, amount, new Date(Date.UTC(2026, 11, 4, 0, 0, amount))))
  }
  applyEntered(event: Entered): void {
    Ledger.applied++
    this.total += event.amount
    this.perAccount.set(event.account, (this.perAccount.get(event.account) ?? 0) + event.amount)
    this.lastAt = event.at
  }
}

/** Its own snapshot state: the members as a list, the cache left out. */
class Team extends AggregateRoot {
  static snapshotEvery = 2
  members = new Set<string>()
  cache: string[] = []
  join(name: string): this {
    return this.record(new Deposited(name.length, name))
  }
  applyDeposited(event: Deposited): void {
    this.members.add(event.eventId!)
    this.cache.push(event.eventId!)
  }
  protected override toSnapshot(): Record<string, unknown> {
    return { members: [...this.members].sort() }
  }
  protected override fromSnapshot(state: Record<string, unknown>): void {
    this.members = new Set(state.members as string[])
  }
}

class PasswordSet {
  constructor(readonly password: string) {}
}
/** A secret in its state: the snapshot row, like the event's, holds it redacted. */
class Login extends AggregateRoot {
  static snapshotEvery = 1
  password = ''
  applyPasswordSet(event: PasswordSet): void {
    this.password = event.password
  }
  set(password: string): this {
    return this.record(new PasswordSet(password))
  }
}

/** Three releases of one event: amount in euros (1), in cents (2), with a currency (3). */
class PriceSetV1 {
  static readonly eventName = 'PriceSet'
  constructor(
    readonly amount: number,
    readonly at: Date,
  ) {}
}
const toCents: Upcasters[number] = ({ amount, ...rest }) => ({ ...rest, cents: Number(amount) * 100 })
class PriceSetV2 {
  static readonly eventName = 'PriceSet'
  static readonly version = 2
  static readonly upcast: Upcasters = { 1: toCents }
  constructor(
    readonly cents: number,
    readonly at: Date,
  ) {}
}
class PriceSetV3 {
  static readonly eventName = 'PriceSet'
  static readonly version = 3
  static readonly upcast: Upcasters = { 1: toCents, 2: (fields) => ({ ...fields, currency: 'EUR' }) }
  constructor(
    readonly cents: number,
    readonly at: Date,
    readonly currency: string,
  ) {}
  get label(): string {
    return `${this.cents} ${this.currency}`
  }
}
class PriceSetV4 {
  static readonly eventName = 'PriceSet'
  static readonly version = 4
  static readonly upcast: Upcasters = { 1: toCents, 2: (fields) => ({ ...fields, currency: 'EUR' }) }
}

describe.each<Dialect>(['sqlite', 'pgsql', 'mysql'])('event-sourcing depth on %s', (dialect) => {
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

  describe('versioned events and upcasters', () => {
    const at = new Date('2026-12-04T10:00:00Z')

    it('keeps the version a row was stored at and reads old rows back, step by step, as the current class', async () => {
      await store.append('price-1', [new PriceSetV1(3, at), new PriceSetV1(4, at)], 0)
      await store.append('price-1', [new PriceSetV2(450, at)], 2)
      await store.append('price-1', [new PriceSetV3(500, at, 'USD')], 3)
      expect((await store.history()).map((row) => row.eventVersion)).toEqual([1, 1, 2, 3])
      expect((await knex('stored_events').orderBy('id').select('event_version')).map((row: { event_version: number | string }) => Number(row.event_version))).toEqual([1, 1, 2, 3])

      const loaded = (await store.load('price-1')).map(({ event }) => event as PriceSetV3)
      for (const event of loaded) expect(event).toBeInstanceOf(PriceSetV3)
      expect(loaded.map((event) => ({ ...event }))).toEqual([
        { cents: 300, at, currency: 'EUR' },
        { cents: 400, at, currency: 'EUR' },
        { cents: 450, at, currency: 'EUR' },
        { cents: 500, at, currency: 'USD' },
      ])
      expect(loaded[0]!.at).toBeInstanceOf(Date)
      expect(loaded[0]!.label).toBe('300 EUR')
    })

    it('replay upcasts too', async () => {
      await app.make('events').dispatch(new PriceSetV1(2, at))
      await store.append('price-2', [new PriceSetV3(900, at, 'GBP')], 0)
      const heard: string[] = []
      app.make('events').listen(PriceSetV3, (event: PriceSetV3) => {
        heard.push(event.label)
      })
      expect(await new EventReplayer(store, app.make('events')).replay()).toMatchObject({ replayed: 2, failed: 0, skipped: 0 })
      expect(heard).toEqual(['200 EUR', '900 GBP'])
    })

    it('names a missing upcaster, and a row newer than its class', async () => {
      await store.append('price-3', [new PriceSetV2(100, at)], 0)
      await store.append('price-4', [Object.assign(Object.create(PriceSetV4.prototype) as PriceSetV4, { cents: 1 })], 0)
      await expect(store.load('price-3')).rejects.toThrow('Event "PriceSet" has no upcaster from version 3 to 4: add it to PriceSet.upcast')
      await store.append('price-5', [new PriceSetV2(1, at)], 0)
      await expect(store.load('price-4')).rejects.toThrow('Event "PriceSet" was stored at version 4, but its class here is at version 2')
      expect((await store.load('price-3')).map(({ event }) => event)).toEqual([expect.objectContaining({ cents: 100 })])
    })
  })

  describe('snapshots', () => {
    const snapshots = () => knex('stored_events_snapshots').orderBy(['stream_id', 'version'])
    afterEach(async () => {
      await knex('stored_events_snapshots').delete()
    })

    it('snapshots every N events, keeps the latest, and retrieve applies only the events after it', async () => {
      const ledger = await Ledger.retrieve('ledger-1', store)
      await ledger.enter('a', 1).enter('b', 2).persist()
      expect(await snapshots()).toEqual([])
      await ledger.enter('a', 3).enter('a', 4).persist()
      expect((await snapshots()).map((row: { version: number | string; aggregate: string }) => [Number(row.version), row.aggregate])).toEqual([[4, 'Ledger']])
      await ledger.enter('b', 5).persist()

      Ledger.applied = 0
      const again = await Ledger.retrieve('ledger-1', store)
      expect(Ledger.applied).toBe(1)
      expect(again.version).toBe(5)
      expect(again.total).toBe(15)
      expect(again.perAccount).toEqual(new Map([['a', 8], ['b', 7]]))
      expect(again.lastAt).toEqual(new Date(Date.UTC(2026, 11, 4, 0, 0, 5)))
      expect(again.id).toBe('ledger-1')

      // It goes on from there: 6 is a multiple of 3, so the snapshot at 4 gives way to one at 6.
      await again.enter('c', 6).persist()
      expect((await snapshots()).map((row: { version: number | string }) => Number(row.version))).toEqual([6])
      const snapshot = await store.latestSnapshot('ledger-1')
      expect(snapshot).toMatchObject({ streamId: 'ledger-1', version: 6, aggregate: 'Ledger', state: { total: 21, perAccount: new Map([['a', 8], ['b', 7], ['c', 6]]) } })
      Ledger.applied = 0
      expect((await Ledger.retrieve('ledger-1', store)).total).toBe(21)
      expect(Ledger.applied).toBe(0)
    })

    it('retrieve trusts the snapshot: its state is the start, and the stream is read after its version', async () => {
      await (await Ledger.retrieve('ledger-2', store)).enter('a', 1).enter('a', 2).enter('a', 3).enter('a', 4).persist()
      await store.saveSnapshot({ streamId: 'ledger-2', version: 3, aggregate: 'Ledger', state: { total: 1000, perAccount: new Map(), lastAt: null } })
      // The newer snapshot (version 4) is the one read.
      expect((await Ledger.retrieve('ledger-2', store)).total).toBe(10)
      await knex('stored_events_snapshots').where({ stream_id: 'ledger-2', version: 4 }).delete()
      await store.saveSnapshot({ streamId: 'ledger-2', version: 3, aggregate: 'Ledger', state: { total: 1000, perAccount: new Map(), lastAt: null } })
      const ledger = await Ledger.retrieve('ledger-2', store)
      expect([ledger.total, ledger.version]).toEqual([1004, 4])
    })

    it('toSnapshot / fromSnapshot decide the state kept', async () => {
      await (await Team.retrieve('team-1', store)).join('ada').join('bob').join('cy').persist()
      const [row] = (await snapshots()) as Array<{ state: string; version: number | string }>
      expect(Number(row!.version)).toBe(3)
      expect(JSON.parse(row!.state)).toEqual({ members: ['ada', 'bob', 'cy'] })
      const team = await Team.retrieve('team-1', store)
      expect(team.members).toEqual(new Set(['ada', 'bob', 'cy']))
      expect(team.cache).toEqual([])
      expect(team.version).toBe(3)
    })

    it('redacts the state as it does the events', async () => {
      await (await Login.retrieve('login-1', store)).set('hunter2-secret').persist()
      const [row] = (await snapshots()) as Array<{ state: string }>
      expect(row!.state).not.toContain('hunter2')
      expect(JSON.parse(row!.state)).toEqual({ password: REDACTED })
      expect((await Login.retrieve('login-1', store)).password).toBe(REDACTED)
    })

    it('takes no snapshot of a state that applied a retried event twice', async () => {
      await (await Team.retrieve('team-2', store)).join('ada').persist()
      const retried = await (await Team.retrieve('team-2', store)).join('ada').persist()
      expect(retried.version).toBe(1)
      expect(await snapshots()).toEqual([])
    })
  })
})
