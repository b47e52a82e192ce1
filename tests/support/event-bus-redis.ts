import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { EventBusConfig } from '../../src/foundation/event-bus-config.ts'

export const REDIS_URL = 'redis://127.0.0.1:6379'

/** A key prefix no other test (or parallel run) uses. */
export function uniquePrefix(): string {
  return `herald-test:bus:${randomBytes(5).toString('hex')}:`
}

/** The Redis driver's config for one test, its streams under `prefix`. */
export function redisBusConfig(service: string, prefix: string, overrides: Partial<EventBusConfig['redis']> = {}, outbox = false): EventBusConfig {
  return {
    driver: 'redis',
    service,
    redis: { url: REDIS_URL, prefix, maxLength: 10_000, claimIdle: 1_000, batch: 2, block: 200, ...overrides },
    dedupTtl: 600,
    outbox: { enabled: outbox, table: 'event_bus_outbox', connection: null, relayInterval: 500 },
  }
}

/** Deletes every key under `prefix`. */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    await redis.quit()
  }
}
