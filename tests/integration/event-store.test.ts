/**
 * The event store on SQLite, PostgreSQL and MariaDB: every dispatch written (redacted, tagged,
 * correlated) inside the caller's transaction, the store's failure policy, streams with
 * optimistic concurrency (concurrent appends: exactly one wins), AggregateRoot, and replay.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  AggregateRoot,
  ConcurrencyError,
  Dispatchable,
  EventReplayer,
  EventStore,
  Listener,
  Migrator,
  REDACTED,
  ShouldQueue,
  createApplication,
  currentEventContext,
  withEventContext,
  type Application,
  type Knex,
  type ReplayStep,
} from 'herald'
import { runArtisan } from '../../src/console/kernel.ts'
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/fresh-database.ts'
import { projectRoot } from '../support/project-copy.ts'

class OrderPlaced extends Dispatchable {
  static readonly tags = ['orders', 'billing']
  constructor(
    readonly orderId: number,
    readonly total: number,
    readonly card: { number: string; holder: string } = { number: '4242424242424242', holder: 'Ada' },
    readonly placedAt = new Date('2026-11-23T10:00:00Z'),
    readonly items = new Set(['sku-1']),
  ) {
    super()
  }
}

class MoneyDeposited {
  constructor(readonly amount: number) {}
}
class MoneyWithdrawn {
  constructor(readonly amount: number) {}
}

class Account extends AggregateRoot {
  balance = 0
  deposit(amount: number): this {
    return this.record(new MoneyDeposited(amount))
  }
  withdraw(amount: number): this {
    if (amount > this.balance) throw new Error('insufficient funds')
    return this.recordThat(new MoneyWithdrawn(amount))
  }
  applyMoneyDeposited(event: MoneyDeposited): void {
    this.balance += event.amount
  }
  applyMoneyWithdrawn(event: MoneyWithdrawn): void {
    this.balance -= event.amount
  }
}

/** An application on its own database with the store on (unless `store` says otherwise). */
function makeApp(database: FreshDatabase, store: { enabled?: boolean; table?: string } = {}): Application {
  return createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent', QUEUE_CONNECTION: 'sync' },
    configure: (config) => {
      config.database = { default: 'main', connections: { main: database.connection } }
      config.events.store = { ...config.events.store, enabled: store.enabled ?? true, table: store.table ?? 'stored_events', connection: null }
      config.events.redact = ['password', /card/i]
    },
  })
}

/** The application booted, its database migrated with the project's migrations. */
async function bootMigrated(database: FreshDatabase, store: { enabled?: boolean } = {}): Promise<{ app: Application; knex: Knex }> {
  const app = makeApp(database, store)
  await app.boot()
  const knex = await app.make('db').connection()
  await new Migrator(knex, `${projectRoot}/database/migrations`).latest()
  return { app, knex }
}

describe.each<Dialect>(['sqlite', 'pgsql', 'mysql'])('the event store on %s', (dialect) => {
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
    app.make('events').onError(null)
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })

  it('writes every dispatch before its listeners run: redacted payload, tags, correlation and causation', async () => {
    const events = app.make('events')
    const seenRows: number[] = []
    events.listen(OrderPlaced, async function CountRows() {
      seenRows.push(Number((await knex('stored_events').count({ n: '*' }))[0]!.n))
      await events.dispatch('stock.reserved', { orderId: 7, password: 'hunter2' })
    })
    await events.dispatch(new OrderPlaced(7, 30))
    expect(seenRows).toEqual([1])

    const [placed, reserved] = await store.history()
    expect(placed).toMatchObject({ name: 'OrderPlaced', tags: ['orders', 'billing'], causationId: null, streamId: null, version: null })
    expect(placed!.correlationId).toBe(placed!.id)
    expect(JSON.stringify(placed!.payload)).not.toContain('4242')
    expect(reserved).toMatchObject({ name: 'stock.reserved', tags: [], correlationId: placed!.id, causationId: placed!.id })
    expect(reserved!.payload).toEqual({ orderId: 7, password: REDACTED })

    const rebuilt = store.rebuild(placed!) as OrderPlaced
    expect(rebuilt).toBeInstanceOf(OrderPlaced)
    expect(rebuilt.card).toBe(REDACTED)
    expect(rebuilt.placedAt).toEqual(new Date('2026-11-23T10:00:00Z'))
    expect(rebuilt.items).toEqual(new Set(['sku-1']))
    expect(placed!.occurredAt.getTime()).toBeGreaterThan(Date.now() - 60_000)
  })

  it('writes through the surrounding DB.transaction: a rollback leaves no row and a commit keeps it', async () => {
    const db = app.make('db')
    await expect(
      db.transaction(async () => {
        await app.make('events').dispatch(new OrderPlaced(1, 10))
        throw new Error('abort the order')
      }),
    ).rejects.toThrow('abort the order')
    expect(await store.history()).toEqual([])

    await db.transaction(async () => {
      await app.make('events').dispatch(new OrderPlaced(2, 20))
    })
    expect((await store.history()).map((event) => event.name)).toEqual(['OrderPlaced'])
  })

  it('does not store a replayed dispatch, nor a queued event whose listeners a worker runs', async () => {
    const events = app.make('events')
    await withEventContext({ correlationId: 'replay-1', replaying: true }, () => events.dispatch(new OrderPlaced(3, 30)))
    await withEventContext({ correlationId: 'job-1', eventId: '01JAAAAAAAAAAAAAAAAAAAAAAA' }, () => events.dispatchNow('OrderPlaced', new OrderPlaced(3, 30)))
    expect(await store.history()).toEqual([])
  })

  it('a failed write follows the error policy: the dispatch rejects with no listener run, or onError gets it', async () => {
    const broken = makeApp(database, { table: 'missing_events' })
    await broken.boot()
    try {
      const events = broken.make('events')
      const ran: string[] = []
      events.listen(OrderPlaced, function Ship() {
        ran.push('Ship')
      })
      await expect(events.dispatch(new OrderPlaced(4, 40))).rejects.toThrow('The table "missing_events" does not exist on database connection "main"')
      expect(ran).toEqual([])

      const handled: string[] = []
      events.onError((error, _event, listener) => {
        handled.push(`${listener.name}: ${(error as Error).message}`)
      })
      await events.dispatch(new OrderPlaced(4, 40))
      expect(ran).toEqual(['Ship'])
      expect(handled).toEqual([expect.stringContaining('EventStore: The table "missing_events" does not exist')])
    } finally {
      await broken.shutdown()
    }
  })

  it('appends to streams with versions, loads them back rebuilt, and checks the expected version', async () => {
    const first = await store.append('account-1', [new MoneyDeposited(10), new MoneyDeposited(5)], 0)
    expect(first.version).toBe(2)
    expect(first.appended.map((event) => [event.name, event.version, event.streamId])).toEqual([
      ['MoneyDeposited', 1, 'account-1'],
      ['MoneyDeposited', 2, 'account-1'],
    ])
    await expect(store.append('account-1', [new MoneyWithdrawn(3)], 1)).rejects.toThrow(ConcurrencyError)
    await expect(store.append('account-1', [new MoneyWithdrawn(3)], 1)).rejects.toMatchObject({ streamId: 'account-1', expectedVersion: 1, actualVersion: 2 })
    expect((await store.append('account-1', [new MoneyWithdrawn(3)], 'any')).version).toBe(3)
    await store.append('account-2', [new MoneyDeposited(99)], 0)

    const loaded = await store.load('account-1')
    expect(loaded.map(({ version, event }) => [version, event.constructor.name, (event as MoneyDeposited).amount])).toEqual([
      [1, 'MoneyDeposited', 10],
      [2, 'MoneyDeposited', 5],
      [3, 'MoneyWithdrawn', 3],
    ])
    expect((await store.load('account-1', 3)).map(({ version }) => version)).toEqual([3])
    expect(await store.version('account-1')).toBe(3)
    expect(await store.version('nobody')).toBe(0)
  })

  it('ignores events already stored: a retried append is a no-op', async () => {
    const events = [new MoneyDeposited(10), new MoneyDeposited(20)]
    await store.append('account-3', events, 0)
    expect(await store.append('account-3', events, 0)).toEqual({ version: 2, appended: [] })
    const loaded = await store.load('account-3')
    expect(await store.append('account-3', loaded.map(({ event }) => event), 'any')).toEqual({ version: 2, appended: [] })
    // A new event alongside stored ones: only it is appended, checked against the stream as it is now.
    const more = await store.append('account-3', [events[0]!, new MoneyDeposited(30)], 2)
    expect(more.appended.map((event) => event.version)).toEqual([3])
    expect(await store.count({})).toBe(3)
  })

  it('lets exactly one of many concurrent appends at the same expected version win', async () => {
    // Separate applications: separate connection pools, so the appends really run at once. Not
    // on SQLite, whose driver is synchronous: a second connection of the same process waiting
    // for the write lock would block the thread of the one holding it. There a process's
    // appends share its one connection (other processes wait for the lock: busy_timeout).
    const apps = await Promise.all(
      Array.from({ length: dialect === 'sqlite' ? 0 : 6 }, async () => {
        const other = makeApp(database)
        await other.boot()
        return other
      }),
    )
    const stores = dialect === 'sqlite' ? Array.from({ length: 6 }, () => store) : apps.map((other) => other.make('events.store'))
    try {
      await store.append('race', [new MoneyDeposited(1)], 0)
      const results = await Promise.allSettled(stores.map((racer, i) => racer.append('race', [new MoneyDeposited(i), new MoneyDeposited(i)], 1)))
      const won = results.filter((result) => result.status === 'fulfilled')
      const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected')
      expect(won).toHaveLength(1)
      expect(lost).toHaveLength(5)
      for (const { reason } of lost) expect(reason).toBeInstanceOf(ConcurrencyError)
      expect((await store.load('race')).map(({ version }) => version)).toEqual([1, 2, 3])

      // With 'any', racing appends all land, one after another.
      const anyResults = await Promise.all(stores.map((racer, i) => racer.append('race-any', [new MoneyDeposited(i)], 'any')))
      expect(anyResults.map((result) => result.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
    } finally {
      await Promise.all(apps.map((other) => other.shutdown()))
    }
  })

  it('AggregateRoot: records and applies events, persists them with its version, dispatches them once, stores them once', async () => {
    const heard: number[] = []
    app.make('events').listen(MoneyDeposited, (event: MoneyDeposited) => {
      heard.push(event.amount)
    })
    const account = await Account.retrieve('acct-A', store)
    expect(account.version).toBe(0)
    await account.deposit(10).deposit(15).persist()
    expect(account.version).toBe(2)
    expect(account.recordedEvents).toEqual([])
    expect(heard).toEqual([10, 15])
    expect(await store.count({})).toBe(2)

    const again = await Account.retrieve('acct-A', store)
    expect([again.balance, again.version]).toEqual([25, 2])
    const stale = await Account.retrieve('acct-A', store)
    await again.withdraw(5).persist()
    await expect(stale.withdraw(20).persist()).rejects.toThrow(ConcurrencyError)
    expect(stale.recordedEvents).toHaveLength(1)
    expect((await Account.retrieve('acct-A', store)).balance).toBe(20)
  })

  it('AggregateRoot.retrieve uses the application store through the facades', async () => {
    const { setFacadeRoot } = await import('herald')
    setFacadeRoot(app)
    try {
      await (await Account.retrieve('acct-F')).deposit(3).persist()
      expect((await Account.retrieve('acct-F')).balance).toBe(3)
    } finally {
      setFacadeRoot(null)
    }
  })

  describe('replay', () => {
    class Replayable extends Dispatchable {
      constructor(readonly n: number) {
        super()
      }
    }

    async function seed(count: number): Promise<string[]> {
      const events = app.make('events')
      for (let n = 1; n <= count; n++) await events.dispatch(new Replayable(n))
      await events.dispatch('note.added', { text: 'a string event' })
      return (await store.history()).map((event) => event.id)
    }

    it('re-dispatches in id order to the listeners, marked replaying, without storing them again', async () => {
      await seed(3)
      const events = app.make('events')
      const seen: Array<[number, boolean | undefined, string | undefined]> = []
      const notes: unknown[] = []
      events.listen(Replayable, function Project(event: Replayable) {
        seen.push([event.n, currentEventContext()?.replaying, currentEventContext()?.correlationId])
      })
      events.listen('note.added', (note: unknown) => {
        notes.push(note)
      })
      const stored = await store.history()
      const summary = await new EventReplayer(store, events).replay()
      expect(summary).toEqual({ replayed: 4, failed: 0, skipped: 0, stoppedBefore: null })
      expect(seen).toEqual([1, 2, 3].map((n, i) => [n, true, stored[i]!.correlationId]))
      expect(notes).toEqual([{ text: 'a string event' }])
      expect(await store.count({})).toBe(4)
    })

    it('--listener runs only that listener, queued ones inline; --event and --from/--to select', async () => {
      const ids = await seed(3)
      const events = app.make('events')
      const ran: string[] = []
      events.listen(Replayable, function Other(event: Replayable) {
        ran.push(`Other ${event.n}`)
      })
      class Projector extends ShouldQueue(Listener.for(Replayable)) {
        handle(event: Replayable) {
          ran.push(`Projector ${event.n}`)
        }
      }
      events.listen(Replayable, Projector)
      const summary = await new EventReplayer(store, events).replay({ listener: 'Projector', events: ['Replayable'], from: ids[1], to: ids[2] })
      expect(summary.replayed).toBe(2)
      expect(ran).toEqual(['Projector 2', 'Projector 3'])
    })

    it('counts failures and reports events whose class is unknown, and goes on', async () => {
      await seed(2)
      await knex('stored_events').insert({
        id: '01ZZZZZZZZZZZZZZZZZZZZZZZZ',
        name: 'Vanished',
        payload: JSON.stringify({ $t: 'Event', name: 'Vanished', v: {} }),
        tags: '[]',
        correlation_id: 'c',
        occurred_at: Date.now(),
      })
      const events = app.make('events')
      events.listen(Replayable, function Fails(event: Replayable) {
        if (event.n === 1) throw new Error('projection broke')
      })
      const steps: ReplayStep[] = []
      const summary = await new EventReplayer(store, events).replay({ onEvent: (step) => steps.push(step) })
      expect(summary).toEqual({ replayed: 2, failed: 1, skipped: 1, stoppedBefore: null })
      expect(steps.map((step) => step.outcome)).toEqual(['failed', 'replayed', 'replayed', 'skipped'])
      expect(String(steps[0]!.error)).toContain('projection broke')
      expect(String(steps[3]!.error)).toContain('Class "Vanished" is not registered')

      let stdout = ''
      const dry = await runArtisan(['event:replay', '--dry-run'], {
        cwd: projectRoot,
        streams: { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } },
        boot: async () => {
          const other = makeApp(database)
          await other.boot()
          return other
        },
      })
      expect(dry).toBe(0)
      expect(stdout).toContain('Would replay 4 event(s).\n')
      expect(stdout).toContain('\n  01ZZZZZZZZZZZZZZZZZZZZZZZZ Vanished SKIP  Class "Vanished" is not registered')
    })

    it('artisan event:replay on a terminal draws one progress bar in place, failures printed above it', async () => {
      await seed(2)
      let stdout = ''
      const code = await runArtisan(['event:replay'], {
        cwd: projectRoot,
        streams: { stdout: { write: (text: string) => (stdout += text), isTTY: true }, stderr: { write: () => true } },
        boot: async () => {
          // Its own application: the command shuts it down when done.
          const other = makeApp(database)
          await other.boot()
          other.make('events').listen(Replayable, function Fails(event: Replayable) {
            if (event.n === 2) throw new Error('projection broke')
          })
          return other
        },
      })
      expect(code).toBe(1)
      const [, failedId] = (await store.history()).map((event) => event.id)
      expect(stdout.split('\r')).toEqual([
        '',
        `[${'.'.repeat(30)}] 0/3`,
        `[${'#'.repeat(10)}${'.'.repeat(20)}] 1/3`,
        `\u001b[2K  ${failedId} Replayable \u001b[31mFAIL\u001b[0m  1 listener failed for event "Replayable": Fails (projection broke)\n`,
        `[${'#'.repeat(20)}${'.'.repeat(10)}] 2/3`,
        `[${'#'.repeat(30)}] 3/3\nReplayed 2, failed 1.\n`,
      ])
    })

    it('stops after the event in hand when aborted, naming the next one; --from it resumes', async () => {
      const ids = await seed(4)
      const events = app.make('events')
      const seen: number[] = []
      events.listen(Replayable, (event: Replayable) => {
        seen.push(event.n)
      })
      const abort = new AbortController()
      const first = await new EventReplayer(store, events).replay({ signal: abort.signal, onEvent: ({ stored }) => stored.id === ids[1] && abort.abort() })
      expect(first).toEqual({ replayed: 2, failed: 0, skipped: 0, stoppedBefore: ids[2] })
      const rest = await new EventReplayer(store, events).replay({ from: first.stoppedBefore! })
      expect(rest.replayed).toBe(3)
      expect(seen).toEqual([1, 2, 3, 4])
    })
  })
})

describe('the event store switched off (the default)', () => {
  it('installs no middleware: dispatches are not written', async () => {
    const database = await freshDatabase('sqlite')
    const { app } = await bootMigrated(database, { enabled: false })
    try {
      await app.make('events').dispatch(new OrderPlaced(1, 1))
      expect(await app.make('events.store').count()).toBe(0)
    } finally {
      await app.shutdown()
      await database.drop()
    }
  })
})
