/**
 * An event bus consumer in a process of its own, for the crash test: the test kills it with
 * SIGKILL while it holds events, then checks that another consumer of its service runs them.
 *
 *   node --import tsx tests/support/event-bus-consumer-process.ts <redis-url> <prefix> <service> <handler-ms> <claim-idle-ms>
 *
 * It subscribes to the string event `bus.job` (payload `{ n }`). Stdout gets `ready` once its
 * group exists, `start <n>` when a delivery begins and `done <n>` once it has been recorded
 * (RPUSH `<prefix>done`, value `<n>`, and RPUSH `<prefix>got:<service>`, value `<n>@<pid>`).
 * SIGTERM finishes the event in hand and exits 0.
 */
import { createLogger } from '../../src/foundation/logger.ts'
import { EventBusManager } from '../../src/event-bus/event-bus-manager.ts'
import { Redis } from 'ioredis'

const [url, prefix, service, handlerMs, claimIdle] = process.argv.slice(2)
if (url === undefined || prefix === undefined || service === undefined || handlerMs === undefined || claimIdle === undefined) {
  process.stderr.write('usage: event-bus-consumer-process.ts <redis-url> <prefix> <service> <handler-ms> <claim-idle-ms>\n')
  process.exit(1)
}

const redis = new Redis(url)
const bus = new EventBusManager({
  config: {
    driver: 'redis',
    service,
    redis: { url, prefix, maxLength: 10_000, claimIdle: Number(claimIdle), batch: 5, block: 200 },
    dedupTtl: 600,
    outbox: { enabled: false, table: 'event_bus_outbox', connection: null, relayInterval: 1_000 },
  },
  logger: createLogger('warn', (line) => process.stderr.write(`${line}\n`)),
})
bus.subscribe('bus.job', async (event) => {
  const { n } = event as { n: number }
  process.stdout.write(`start ${n}\n`)
  await new Promise((resolve) => setTimeout(resolve, Number(handlerMs)))
  await redis.multi().rpush(`${prefix}done`, String(n)).rpush(`${prefix}got:${service}`, `${n}@${process.pid}`).exec()
  process.stdout.write(`done ${n}\n`)
})
const stop = new AbortController()
process.once('SIGTERM', () => stop.abort())
await bus.work({ signal: stop.signal, onReady: () => process.stdout.write('ready\n') })
await bus.close()
await redis.quit()
process.stdout.write('stopped\n')
