/**
 * A queue worker process for the chain and batch tests: boots an application from the env
 * given as JSON in HERALD_TEST_ENV (DB_CONNECTION, DB_DATABASE, QUEUE_CONNECTION, QUEUE_PREFIX,
 * …), registers the workflow job classes, prints "ready", and works `HERALD_TEST_QUEUES`
 * (default "default") until SIGTERM, when it finishes the jobs in hand and exits 0.
 *
 *   node --import tsx tests/support/workflow-worker-process.ts
 */
import { Bus, bootApplication } from '../../src/index.ts'
import { Worker } from '../../src/queue/worker.ts'
import { workflowJobs } from '../fixtures/workflows/jobs.ts'

const env = JSON.parse(process.env.HERALD_TEST_ENV ?? 'null') as Record<string, string> | null
if (env === null) throw new Error('HERALD_TEST_ENV is not set')
const app = await bootApplication({ basePath: process.env.HERALD_TEST_BASE ?? process.cwd(), envFile: false, loadConfig: false, env })
Bus.serializable(...workflowJobs)
const worker = new Worker(app.make('queue'), {
  connection: env.QUEUE_CONNECTION ?? 'database',
  queues: (process.env.HERALD_TEST_QUEUES ?? 'default').split(','),
  concurrency: Number(process.env.HERALD_TEST_CONCURRENCY ?? 2),
  defaults: { tries: 1, backoff: 0, timeout: 0 },
  sleep: 0.02,
  stopWhenEmpty: false,
  maxJobs: 0,
  maxTime: 0,
  memory: 0,
})
process.once('SIGTERM', () => void worker.stop())
process.stdout.write('ready\n')
await worker.run()
await app.shutdown()
process.exit(0)
