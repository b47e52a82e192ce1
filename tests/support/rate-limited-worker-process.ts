// A second queue worker for the job-middleware test: boots an application on the same database
// and queue connection as the test (env HERALD_TEST_ENV, JSON), defines the same limiter and
// job, and works the default queue at concurrency 1 until SIGTERM. Prints "ready" once working,
// and a line `ran <n> <attempt> <ms> <pid>` per job run.
// Run with `node --import tsx tests/support/rate-limited-worker-process.ts`.
import { createApplication } from '../../src/index.ts'
import { Worker } from '../../src/queue/worker.ts'
import { SharedLimited, defineSharedLimiter, reportTo } from './rate-limited-jobs.ts'

const env = JSON.parse(process.env.HERALD_TEST_ENV ?? 'null') as Record<string, string> | null
if (env === null) throw new Error('HERALD_TEST_ENV is not set')

const app = createApplication({ basePath: process.cwd(), envFile: false, loadConfig: false, env })
await app.boot()
app.make('bus').serializable(SharedLimited)
defineSharedLimiter()
reportTo((line) => process.stdout.write(`${line}\n`))

const worker = new Worker(app.make('queue'), {
  connection: env.QUEUE_CONNECTION ?? 'database',
  queues: ['default'],
  concurrency: 1,
  defaults: { tries: 1, backoff: 0, timeout: 30 },
  sleep: 0.02,
  stopWhenEmpty: false,
  maxJobs: 0,
  maxTime: 0,
  memory: 0,
})
process.once('SIGTERM', () => void worker.stop())
const running = worker.run()
process.stdout.write('ready\n')
await running
await app.shutdown()
process.exit(0)
