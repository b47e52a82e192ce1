import { defaultLimiterConfig, defineConfig } from 'herald'

export default defineConfig((env) => ({
  // Where queued listeners go: database (the embedded default), bullmq (Redis) or sync.
  default: env.string('QUEUE_CONNECTION', 'database'),
  connections: {
    sync: { driver: 'sync' as const },
    database: {
      driver: 'database' as const,
      table: 'jobs',
      queue: 'default',
      // Seconds a reserved job stays its worker's without a renewal: the live worker renews it
      // every third of that, so a job whose worker died runs again within about this long,
      // and a long job is never handed to a second worker. (Replaces Laravel's retry_after.)
      lease: env.number('QUEUE_LEASE', 10),
      // Jobs a worker reserves ahead of its free slots, in one statement: it holds about 50 ms of
      // work ahead (at most this many), so fast jobs cost a fraction of a round trip each and
      // slow ones are not hoarded. 0: claim only for free slots.
      prefetch: env.number('QUEUE_PREFETCH', 500),
    },
    bullmq: {
      driver: 'bullmq' as const,
      url: env.string('REDIS_URL', 'redis://127.0.0.1:6379'),
      queue: 'default',
      prefix: env.string('QUEUE_PREFIX', 'herald'),
      // A job whose worker died is delivered again within lockDuration + 2 × stalledInterval.
      lockDuration: env.number('QUEUE_LOCK_DURATION', 6),
      stalledInterval: env.number('QUEUE_STALLED_INTERVAL', 4),
      // Honour listeners' `priority` (higher runs first). Off, jobs run first in, first out,
      // which costs Redis less per job.
      priorities: env.boolean('QUEUE_PRIORITIES', false),
    },
  },
  // Failed jobs of every connection go to this table of the default database.
  failed: { table: 'failed_jobs' },
  // Where RateLimited / ThrottlesExceptions keep their counts, shared by every worker: QUEUE_LIMITER
  // redis, database or memory (one process only). Unset: by the job's connection (a bullmq job
  // counts in its Redis, any other in the database, in QUEUE_LIMITER_TABLE).
  limiter: defaultLimiterConfig(env),
}))
