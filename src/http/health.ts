import type { Request, Response } from 'express'
import type { Application } from '../foundation/application.ts'
import { timeLimit } from '../support/promises.ts'

/** How long one check may take before it counts as down. */
const CHECK_TIMEOUT_MS = 2_000

export type HealthStatus = 'up' | 'down'

export interface HealthReport {
  readonly status: HealthStatus
  /** `database`, `queue`, and `redis` when a Redis connection is the default queue or broadcast one. */
  readonly checks: Record<string, HealthStatus>
}

async function probe(check: () => Promise<unknown>): Promise<HealthStatus> {
  try {
    await timeLimit(check(), CHECK_TIMEOUT_MS)
    return 'up'
  } catch {
    return 'down'
  }
}

async function pingRedis(url: string): Promise<void> {
  const { Redis } = await import('ioredis')
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: CHECK_TIMEOUT_MS })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
  } finally {
    redis.disconnect()
  }
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

/** Checks the database, the default queue and Redis (when used), each within 2 s. */
export async function checkHealth(app: Application): Promise<HealthReport> {
  const queues = app.make('queue')
  const urls = redisUrls(app)
  const [database, queue, redis] = await Promise.all([
    probe(async () => (await app.make('db').connection()).raw('select 1')),
    probe(async () => (await queues.connection()).size(queues.defaultQueue())),
    urls.length === 0 ? null : probe(() => Promise.all(urls.map(pingRedis))),
  ])
  const checks: Record<string, HealthStatus> = { database, queue, ...(redis === null ? {} : { redis }) }
  return { status: Object.values(checks).includes('down') ? 'down' : 'up', checks }
}

/** `GET /health`: 200 with every check up, 503 when one is down. */
export function healthRoute(app: Application) {
  return async (_request: Request, response: Response): Promise<void> => {
    const report = await checkHealth(app)
    response.status(report.status === 'up' ? 200 : 503).json(report)
  }
}
