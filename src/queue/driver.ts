import type { DatabaseManager } from '../database/database-manager.ts'
import type { QueueConnectionConfig } from '../foundation/config.ts'
import type { Logger } from '../foundation/logger.ts'
import type { FailedJobStore } from './failed-job-store.ts'
import type { ReconnectPolicy } from './reconnect.ts'

/**
 * What a queue driver implements. Drivers store and deliver payloads (JSON text); the worker
 * pipeline (JobRunner) decides what happens to a job, so every driver has one semantics.
 */

/** A job handed to the worker. */
export interface DeliveredJob {
  /** The driver's id for this job (a row id, a BullMQ job id). */
  readonly id: string
  readonly queue: string
  /** The stored envelope text; may be garbage, which the runner fails with the reason. */
  readonly payload: string
  /**
   * This attempt's number, from 1, as the driver counts deliveries (a crashed worker's
   * delivery counts too, as with Laravel's `attempts` column).
   */
  readonly attempts: number
}

/** What the runner decided; the driver carries it out. */
export type JobOutcome =
  /** Finished: delete it. */
  | { readonly kind: 'done' }
  /** Run again in `delay` seconds, with this updated envelope text. */
  | { readonly kind: 'release'; readonly delay: number; readonly payload: string }
  /** Gone for good: the runner already wrote failed_jobs and called failed(); delete it. */
  | { readonly kind: 'failed'; readonly error: unknown }

export interface PushOptions {
  readonly queue: string
  /** Seconds from now. */
  readonly delay: number
  /** Higher runs first within a queue (drivers that support it). */
  readonly priority: number
}

export interface ConsumeOptions {
  /** Queue names, highest priority first: a job on an earlier queue is taken before later ones. */
  readonly queues: readonly string[]
  /** Jobs in hand at once. */
  readonly concurrency: number
  /** Seconds to wait before polling again when every queue is empty. */
  readonly sleep: number
  /** Resolve once every queue is empty and nothing is in hand. */
  readonly stopWhenEmpty: boolean
  /** Runs one job; never rejects. */
  readonly process: (job: DeliveredJob) => Promise<JobOutcome>
  /** Aborted: take no new jobs, finish those in hand, resolve. */
  readonly signal: AbortSignal
  /**
   * How to wait out a lost connection (src/queue/reconnect.ts): a connection error is one
   * warning through `warn`, then tries with capped, jittered backoff; `consume` rejects with a
   * ServiceUnreachableError only after `reconnect.maxDisconnected` seconds without a connection.
   * Default: DEFAULT_RECONNECT_POLICY.
   */
  readonly reconnect?: ReconnectPolicy
  /** One line for the worker's output (a lost connection, a reclaimed job). Default: ignored. */
  readonly warn?: (message: string) => void
}

export interface QueueDriver {
  /** The connection name from config/queue.ts. */
  readonly connection: string
  /** Stores a job; resolves to its id. */
  push(payload: string, options: PushOptions): Promise<string>
  /** Jobs waiting (and delayed) on a queue. */
  size(queue: string): Promise<number>
  /** Deletes the waiting jobs of a queue; resolves to how many. */
  clear(queue: string): Promise<number>
  /** Delivers jobs to `process` until the signal aborts (or the queues are empty). */
  consume(options: ConsumeOptions): Promise<void>
  /** Releases connections. Idempotent. */
  close(): Promise<void>
}

/** The job pipeline of one connection, as a driver that runs jobs itself (sync) uses it. */
export interface JobProcessor {
  /** Runs one delivered job; never rejects. */
  process(job: DeliveredJob, shutdown?: AbortSignal): Promise<JobOutcome>
}

/**
 * What the queue manager hands a driver: the few things drivers use, never the manager itself.
 * The functions are called when the driver needs them: the database opens on first use.
 */
export interface QueueDriverContext {
  /** The application's logger. */
  readonly logger: Logger
  /** The database connections (the database driver's tables live there). */
  database(): DatabaseManager
  /** The job pipeline for a connection's jobs. */
  runner(connection: string): JobProcessor
  /** Where jobs that failed for good are written (the bullmq driver's poison jobs). */
  failedJobs(): Promise<FailedJobStore>
}

/** What a driver module exports: `drivers/<name>-driver.ts` is imported only when used. */
export interface DriverModule {
  createDriver(name: string, config: QueueConnectionConfig, context: QueueDriverContext): QueueDriver | Promise<QueueDriver>
}
