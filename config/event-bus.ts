import { defaultEventBusConfig, defineConfig } from 'herald'

export default defineConfig((env) => ({
  // Where ShouldPublish events go: local (this process's subscriptions, the default) or redis
  // (Redis Streams: every process of every service that subscribes).
  driver: env.oneOf('EVENT_BUS_DRIVER', ['local', 'redis'] as const, 'local'),
  // This service's name: its processes share one consumer group per event, so each event
  // reaches the service once; another service (another name) receives every event as well.
  service: env.string('EVENT_BUS_SERVICE', defaultEventBusConfig(env).service),
  redis: {
    url: env.string('EVENT_BUS_REDIS_URL', env.string('REDIS_URL', 'redis://127.0.0.1:6379')),
    // Starts every stream's key: herald:bus:OrderPlaced.
    prefix: env.string('EVENT_BUS_PREFIX', 'herald:bus:'),
    // About how many entries each stream keeps (XADD MAXLEN ~).
    maxLength: env.number('EVENT_BUS_MAX_LENGTH', 100_000),
    // Milliseconds an event stays with a consumer that stopped answering before another takes it.
    claimIdle: env.number('EVENT_BUS_CLAIM_IDLE', 30_000),
    batch: 10,
    block: 2_000,
  },
  // Seconds a handled event's id is remembered, so a second delivery of it is skipped.
  dedupTtl: env.number('EVENT_BUS_DEDUP_TTL', 86_400),
  // Published inside DB.transaction(...): written to this table with the transaction, sent after the commit.
  outbox: { enabled: env.boolean('EVENT_BUS_OUTBOX', true), table: 'event_bus_outbox', connection: env.get('EVENT_BUS_OUTBOX_CONNECTION') ?? null, relayInterval: 5_000 },
}))
