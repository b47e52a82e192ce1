import type { Request, Response } from 'express'
import type { Redis } from 'ioredis'
import type { Application } from '../foundation/application.ts'
import { LazyConnections } from '../foundation/lazy-connections.ts'
import { timeLimit } from '../foundation/promises.ts'
import { isMissingTableError } from '../database/missing-table.ts'

/** How long one check may take before it counts as down. */
const CHECK_TIMEOUT_MS = 2_000

export type HealthStatus = 'up' | 'down'

export interface HealthReport {
  readonly status: HealthStatus
  /**
   * `database`, `queue`, `redis` when a Redis connection is the default queue or broadcast
   * one, and `event_store` when the event store is on (EVENTS_STORE_ENABLED).
   */
  readonly checks: Record<string, HealthStatus>
  /**
   * Why a check is down, for the checks that can say so without naming a host, a user or a
   * password (the event store's: its table missing, its connection not configured or silent).
   * Absent when there is nothing to say.
   */
  readonly reasons?: Record<string, string>
}

interface CheckResult {
  readonly status: HealthStatus
  readonly reason?: string
}

/** The name the health check's Redis connections carry in `CLIENT LIST`. */
export function healthClientName(): string {
  return `herald-health-${process.pid}`
}

async function probe(check: () => Promise<unknown>): Promise<HealthStatus> {
  try {
    await timeLimit(check(), CHECK_TIMEOUT_MS)
    return 'up'
  } catch {
    return 'down'
  }
}

/**
 * The event store's table answers a query, on the store's connection (the application's
 * own, kept). The reason when it does not is made here from the settings, never from the
 * driver's message, which may hold a host, a user or a connection string.
 */
async function checkEventStore(app: Application): Promise<CheckResult> {
  const { table, connection } = app.config.get('events').store
  const db = app.make('db')
  const name = connection ?? db.defaultConnection
  try {
    db.driver(name)
  } catch {
    return { status: 'down', reason: `The event store's connection "${name}" is not configured in config/database.ts (EVENTS_STORE_CONNECTION).` }
  }
  try {
    await timeLimit(
      (async () => {
        const knex = await db.connection(name)
        await knex(table).select(knex.raw('1 as up')).limit(1)
      })(),
      CHECK_TIMEOUT_MS,
    )
    return { status: 'up' }
  } catch (error) {
    if (isMissingTableError(error)) {
      return { status: 'down', reason: `The event store's table "${table}" does not exist on connection "${name}": run "artisan migrate".` }
    }
    const silent = error instanceof Error && error.message === 'timed out'
    return { status: 'down', reason: `The event store's table "${table}" on connection "${name}" ${silent ? `did not answer within ${CHECK_TIMEOUT_MS / 1000} s` : 'could not be read'}.` }
  }
}

/**
 * One Redis connection per URL, kept for the next check. Commands fail at once while it is
 * down (no offline queue) and ioredis reconnects in the background; one that never connected
 * is dropped, so the next check tries a new one.
 */
async function openRedis(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis')
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: healthClientName(),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: CHECK_TIMEOUT_MS,
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    throw error
  }
  return redis
}

/** The Redis URLs the application's default connections use. */
function redisUrls(app: Application): string[] {
  const urls = new Set<string>()
  const queue = app.config.get('queue')
  const queueConnection = queue.connections[queue.default]
  if (queueConnection?.driver === 'bullmq') urls.add(queueConnection.url)
  const broadcasting = app.config.get('broadcasting')
  const broadcastConnection = broadcasting.connections[broadcasting.default]
  if (broadcastConnection?.driver === 'redis') urls.add(broadcastConnection.url)
  return [...urls]
}

/**
 * The health checks of one application: the database, the default queue, Redis (when used)
 * and the event store's table (when the store is on), each within 2 s, through connections
 * that are kept (the application's own, and one Redis connection per URL), so no request
 * opens a connection of its own. Checks that are asked for while a run is in progress share
 * its report: under any request rate, each service sees one check at a time.
 */
export class HealthChecks {
  private readonly redis = new LazyConnections<Redis>(openRedis)
  private running: Promise<HealthReport> | null = null
  private closed = false

  constructor(private readonly app: Application) {
    app.onShutdown(() => this.close())
  }

  /** The report of the run in progress, or of a new one. */
  check(): Promise<HealthReport> {
    this.running ??= this.run().finally(() => (this.running = null))
    return this.running
  }

  /** Closes the Redis connections; later checks report Redis down. Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    await this.redis.closeAll(async (redis) => redis.disconnect(), 'health check connections')
  }

  private async run(): Promise<HealthReport> {
    const app = this.app
    const queues = app.make('queue')
    const urls = redisUrls(app)
    const [database, queue, redis, store] = await Promise.all([
      probe(async () => (await app.make('db').connection()).raw('select 1')),
      probe(async () => (await queues.connection()).size(queues.defaultQueue())),
      urls.length === 0 ? null : probe(() => Promise.all(urls.map((url) => this.ping(url)))),
      app.config.get('events').store.enabled ? checkEventStore(app) : null,
    ])
    const checks: Record<string, HealthStatus> = { database, queue, ...(redis !== null && { redis }), ...(store !== null && { event_store: store.status }) }
    const status = Object.values(checks).includes('down') ? 'down' : 'up'
    return store?.reason === undefined ? { status, checks } : { status, checks, reasons: { event_store: store.reason } }
  }

  private async ping(url: string): Promise<void> {
    if (this.closed) throw new Error('The health checks are closed.')
    const redis = await this.redis.get(url)
    // Opened while closing: closeAll() has already gone by.
    if (this.closed) redis.disconnect()
    await redis.ping()
  }
}

/** `GET /health`: 200 with every check up, 503 when one is down. */
export function healthRoute(app: Application) {
  const health = new HealthChecks(app)
  return async (_request: Request, response: Response): Promise<void> => {
    const report = await health.check()
    response.status(report.status === 'up' ? 200 : 503).json(report)
  }
}
