import type { Env } from './env.ts'

/** config/event-bus.ts: the distributed event bus that ShouldPublish events go to. */
export interface EventBusConfig {
  /** `local` (this process only; the default) or `redis` (Redis Streams) (EVENT_BUS_DRIVER). */
  driver: 'local' | 'redis'
  /**
   * This service's name (EVENT_BUS_SERVICE, default APP_NAME in kebab-case): the processes of
   * one service share one consumer group per event, so each event reaches the service once.
   */
  service: string
  redis: {
    /** EVENT_BUS_REDIS_URL, default REDIS_URL or redis://127.0.0.1:6379. */
    url: string
    /** Starts every stream's key: `herald:bus:OrderPlaced` (EVENT_BUS_PREFIX). */
    prefix: string
    /** About how many entries a stream keeps (XADD MAXLEN ~) (EVENT_BUS_MAX_LENGTH). */
    maxLength: number
    /** Milliseconds an entry stays a silent consumer's before another claims it (EVENT_BUS_CLAIM_IDLE). */
    claimIdle: number
    /** Entries read at once. */
    batch: number
    /** Milliseconds one read waits for new entries. */
    block: number
  }
  /** Seconds a handled event's id is remembered, so a second delivery of it is skipped (EVENT_BUS_DEDUP_TTL). */
  dedupTtl: number
  /**
   * The outbox: an event published inside `DB.transaction(...)` is written to this table in that
   * transaction, and relayed to the bus after the commit (and retried while the bus is down).
   */
  outbox: { enabled: boolean; table: string; connection: string | null; relayInterval: number }
}

/** The event bus section's defaults, from the environment: what config/event-bus.ts starts from. */
export function defaultEventBusConfig(env: Env): EventBusConfig {
  const appName = env.string('APP_NAME', 'Herald')
  const service = appName.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'herald'
  return {
    driver: env.oneOf('EVENT_BUS_DRIVER', ['local', 'redis'], 'local'),
    service: env.string('EVENT_BUS_SERVICE', service),
    redis: {
      url: env.string('EVENT_BUS_REDIS_URL', env.string('REDIS_URL', 'redis://127.0.0.1:6379')),
      prefix: env.string('EVENT_BUS_PREFIX', 'herald:bus:'),
      maxLength: env.number('EVENT_BUS_MAX_LENGTH', 100_000),
      claimIdle: env.number('EVENT_BUS_CLAIM_IDLE', 30_000),
      batch: 10,
      block: 2_000,
    },
    dedupTtl: env.number('EVENT_BUS_DEDUP_TTL', 86_400),
    outbox: { enabled: env.boolean('EVENT_BUS_OUTBOX', true), table: 'event_bus_outbox', connection: env.get('EVENT_BUS_OUTBOX_CONNECTION') ?? null, relayInterval: 5_000 },
  }
}
