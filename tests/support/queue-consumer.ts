// A queue worker process for the integration tests: consumes a database queue connection
// until it is empty (or, with HERALD_TEST_UNTIL=n, until it took n jobs, sleeping
// HERALD_TEST_SLEEP seconds when idle) and prints the ids of the jobs it took, as JSON, on stdout.
// Run with `node --import tsx tests/support/queue-consumer.ts`, with HERALD_TEST_DB set to the
// database connection (JSON). It prints "ready" once booted and starts on a line on stdin, so a
// test can start several at the same moment.
import { createInterface } from 'node:readline'
import { createApplication } from '../../src/index.ts'

const connection = JSON.parse(process.env.HERALD_TEST_DB ?? 'null')
if (connection === null) throw new Error('HERALD_TEST_DB is not set')
const concurrency = Number(process.env.HERALD_TEST_CONCURRENCY ?? 4)
const until = process.env.HERALD_TEST_UNTIL === undefined ? null : Number(process.env.HERALD_TEST_UNTIL)
const sleep = Number(process.env.HERALD_TEST_SLEEP ?? 1)

const app = createApplication({
  basePath: process.cwd(),
  envFile: false,
  loadConfig: false,
  env: { EVENTS_DISCOVERY: 'false', LOG_LEVEL: 'silent' },
  configure: (config) => {
    config.database = { default: 'main', connections: { main: connection } }
    config.queue.connections.database = { driver: 'database', table: 'jobs', queue: 'default', retryAfter: 90 }
  },
})
await app.boot()
const driver = await app.make('queue').connection('database')
await (await app.make('db').connection()).raw('select 1')

const lines = createInterface({ input: process.stdin })
const go = new Promise<void>((resolve) => lines.once('line', () => resolve()))
process.stdout.write('ready\n')
await go
lines.close()

const taken: string[] = []
const stop = new AbortController()
await driver.consume({
  queues: ['default'],
  concurrency,
  sleep,
  stopWhenEmpty: until === null,
  signal: stop.signal,
  process: async (job) => {
    taken.push(job.id)
    if (taken.length === until) stop.abort()
    // Some work, so that the other process claims while this one holds jobs.
    await new Promise((resolve) => setTimeout(resolve, 5))
    return { kind: 'done' }
  },
})
process.stdout.write(`${JSON.stringify(taken)}\n`)
await app.shutdown()
