/**
 * A BullMQ consumer in a process of its own, for the crash test: the test kills it with SIGKILL
 * while it holds jobs, then checks that another consumer runs them.
 *
 *   node --import tsx tests/support/bullmq-consumer-process.ts <redis-url> <prefix> <queue> <concurrency> <job-ms>
 *
 * Each job's payload is `{ "n": <number> }`. Stdout gets `start <n> <attempts>` when a job
 * begins and `done <n>` once it has been recorded (RPUSH `<prefix>:crash:completed`, value
 * `<n>:<attempts>`), which is what "completed" means to the test.
 */
import { Redis } from 'ioredis'
import { createLogger } from '../../src/foundation/logger.ts'
import { BullmqDriver } from '../../src/queue/drivers/bullmq-driver.ts'

const [url, prefix, queue, concurrency, jobMs] = process.argv.slice(2)
if (url === undefined || prefix === undefined || queue === undefined || concurrency === undefined || jobMs === undefined) {
  process.stderr.write('usage: bullmq-consumer-process.ts <redis-url> <prefix> <queue> <concurrency> <job-ms>\n')
  process.exit(1)
}

const redis = new Redis(url)
const driver = new BullmqDriver('bullmq', {
  url,
  prefix,
  lockDuration: 2,
  stalledInterval: 1,
  logger: createLogger('warn', (line) => process.stderr.write(`${line}\n`)),
})

await driver.consume({
  queues: [queue],
  concurrency: Number(concurrency),
  sleep: 1,
  stopWhenEmpty: false,
  signal: new AbortController().signal,
  process: async (job) => {
    const { n } = JSON.parse(job.payload) as { n: number }
    process.stdout.write(`start ${n} ${job.attempts}\n`)
    await new Promise((resolve) => setTimeout(resolve, Number(jobMs)))
    await redis.rpush(`${prefix}:crash:completed`, `${n}:${job.attempts}`)
    process.stdout.write(`done ${n}\n`)
    return { kind: 'done' }
  },
})
