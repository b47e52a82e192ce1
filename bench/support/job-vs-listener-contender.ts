/**
 * The jobs scenario of bench/queue.bench.ts, in a child process of its own: one booted
 * application on a `bullmq` (Redis) or `database` (PostgreSQL, a database of its own) queue
 * connection, where the same trivial work is queued two ways: as a ShouldQueue listener of a
 * dispatched event (`events.dispatch(new Tick(n))`), and as a job class (`TickJob.dispatch(n)`).
 * `consume` pushes `count` of one kind (timed: push jobs/s, PUSH_WINDOW dispatches in flight),
 * then times a Herald Worker from its start until the last handle() has run.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import knexFactory from 'knex'
import { Job, Listener, Migrator, ShouldQueue, bootApplication, type Application } from '../../src/index.ts'
import { timeWorker } from './timed-worker.ts'
import { PG, REDIS_URL } from './services.ts'

const PUSH_WINDOW = 100
const MIGRATIONS = fileURLToPath(new URL('../../database/migrations', import.meta.url))

let sink = 0
let remaining = 0
let allRan: (() => void) | null = null

function ran(n: number): void {
  sink += n
  if (allRan !== null && --remaining === 0) {
    const resolve = allRan
    allRan = null
    resolve()
  }
}

class Tick {
  constructor(readonly n: number) {}
}

class TickListener extends ShouldQueue(Listener.for(Tick)) {
  handle(event: Tick) {
    ran(event.n)
  }
}

class TickJob extends Job {
  constructor(readonly n: number) {
    super()
  }
  handle() {
    ran(this.n)
  }
}

export type QueuedKind = 'listener' | 'job'

export interface JobVsListenerContender {
  /** Push ms, consume ms and consume CPU ms for `count` of `kind` at `concurrency`. */
  consume(kind: QueuedKind, count: number, concurrency: number): Promise<{ pushMs: number; ms: number; cpuMs: number }>
  close(): Promise<void>
}

export async function jobVsListenerContender(runId: string, connection: 'bullmq' | 'database'): Promise<JobVsListenerContender> {
  const base = mkdtempSync(join(tmpdir(), 'herald-bench-jobs-'))
  const database = `${runId}_jobs`.toLowerCase()
  const admin = () => knexFactory({ client: 'pg', connection: PG, pool: { min: 0, max: 1 } })
  if (connection === 'database') {
    const setup = admin()
    await setup.raw('create database ??', [database]).finally(() => setup.destroy())
  }
  const app: Application = await bootApplication({
    basePath: base,
    envFile: false,
    loadConfig: false,
    env: {
      LOG_LEVEL: 'warn',
      EVENTS_DISCOVERY: 'false',
      ...(connection === 'database'
        ? { DB_CONNECTION: 'pgsql', DB_HOST: PG.host, DB_PORT: String(PG.port), DB_USERNAME: PG.user, DB_PASSWORD: PG.password, DB_DATABASE: database }
        : { DB_CONNECTION: 'sqlite', DB_DATABASE: join(base, 'database.sqlite') }),
      QUEUE_CONNECTION: connection,
      QUEUE_PREFIX: `${runId}-jobs`,
      REDIS_URL,
    },
  })
  if (connection === 'database') await new Migrator(await app.make('db').connection(), MIGRATIONS).latest()
  app.make('events').listen(Tick, TickListener)
  app.make('bus').serializable(TickJob)
  const events = app.make('events')
  let next = 0
  return {
    async consume(kind, count, concurrency) {
      const push = kind === 'listener' ? () => events.dispatch(new Tick(++next)) : () => TickJob.dispatch(++next)
      const pushStart = performance.now()
      const inFlight = new Set<Promise<unknown>>()
      for (let i = 0; i < count; i++) {
        const pushing = Promise.resolve(push()).finally(() => inFlight.delete(pushing))
        inFlight.add(pushing)
        if (inFlight.size >= PUSH_WINDOW) await Promise.race(inFlight)
      }
      await Promise.all(inFlight)
      const pushMs = performance.now() - pushStart
      remaining = count
      const finished = new Promise<void>((resolve) => (allRan = resolve))
      const { ms, cpuMs } = await timeWorker(app, connection, concurrency, finished)
      return { pushMs, ms, cpuMs }
    },
    async close() {
      const driver = await app.make('queue').connection(connection)
      await driver.clear('default')
      await app.shutdown()
      if (connection === 'database') {
        const teardown = admin()
        await teardown.raw('drop database if exists ?? with (force)', [database]).finally(() => teardown.destroy())
      }
      if (sink < 0) console.log(sink)
    },
  }
}
