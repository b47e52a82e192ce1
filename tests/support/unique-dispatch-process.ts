// A dispatching process for tests/integration/unique-jobs.test.ts: boots an application on
// HERALD_TEST_CONFIG (JSON: { database, queue }), prints "ready", waits for a line on stdin
// (so two processes start at the same moment), then dispatches UniqueReport(1)
// HERALD_TEST_DISPATCHES times at once and prints the ids the dispatches resolved to, as JSON.
import { createInterface } from 'node:readline'
import { bootApplication } from '../../src/index.ts'
import type { DatabaseConnectionConfig, QueueConfig } from '../../src/foundation/config.ts'
import { UniqueReport } from '../fixtures/unique-jobs.ts'

const config = JSON.parse(process.env.HERALD_TEST_CONFIG ?? 'null') as { database: DatabaseConnectionConfig; queue: QueueConfig } | null
if (config === null) throw new Error('HERALD_TEST_CONFIG is not set')
const dispatches = Number(process.env.HERALD_TEST_DISPATCHES ?? 20)

const app = await bootApplication({
  basePath: process.cwd(),
  envFile: false,
  loadConfig: false,
  env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' },
  configure: (settings) => {
    settings.database = { default: 'main', connections: { main: config.database } }
    settings.queue = config.queue
  },
})

// Connections up before the start line, so the race is between the dispatches, not the connects.
const locks = await app.make('jobs.locks').forConnection(config.queue.default)
await locks.store.owner('warm-up')
await app.make('queue').connection(config.queue.default)

const lines = createInterface({ input: process.stdin })
const go = new Promise<void>((resolve) => lines.once('line', () => resolve()))
process.stdout.write('ready\n')
await go
lines.close()

const ids = await Promise.all(Array.from({ length: dispatches }, () => UniqueReport.dispatch(1)))
process.stdout.write(`${JSON.stringify(ids)}\n`)
await app.shutdown()
