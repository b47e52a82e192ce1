import type { DeliveredJob, JobOutcome } from './driver.ts'
import { jobDisplayName } from './envelope.ts'
import type { JobReport, JobStarting } from './job-hooks.ts'
import type { JobDefaults } from './job-runner.ts'
import type { QueueManager } from './queue-manager.ts'
import { DEFAULT_RECONNECT_POLICY, type ReconnectPolicy } from './reconnect.ts'
import type { RestartSignal } from './restart-signal.ts'
import { errorMessage } from '../foundation/error-message.ts'

export interface WorkerOptions {
  readonly connection: string
  /** Queue names, highest priority first. */
  readonly queues: readonly string[]
  readonly concurrency: number
  /** Defaults for jobs that set none (`--tries`, `--backoff`, `--timeout`). */
  readonly defaults: JobDefaults
  /** Seconds to sleep when there is no job. */
  readonly sleep: number
  readonly stopWhenEmpty: boolean
  /** Stop after this many jobs (0: no limit). `--once` is 1. */
  readonly maxJobs: number
  /** Stop after this many seconds (0: no limit). */
  readonly maxTime: number
  /** Stop once the process uses more than this many MB (0: no limit). */
  readonly memory: number
  /** Called after each job, for the worker's output. */
  readonly onJob?: (report: JobReport) => void
  /** How to wait out a lost connection (`--max-disconnected`). Default: DEFAULT_RECONNECT_POLICY. */
  readonly reconnect?: ReconnectPolicy
  /** One warning line (a lost connection, a reclaimed job), for the worker's output. */
  readonly onWarning?: (message: string) => void
  /**
   * `artisan queue:restart`'s signal: read at start, then every `restartCheck` seconds; once it
   * changes, the worker stops after its jobs in hand with reason 'restart'.
   */
  readonly restart?: RestartSignal
  /** Seconds between two reads of `restart` (default 3). */
  readonly restartCheck?: number
}

/** Seconds between two reads of the restart signal: one cheap query per worker, whatever its throughput. */
export const DEFAULT_RESTART_CHECK = 3

export interface WorkerSummary {
  readonly processed: number
  readonly failed: number
  readonly released: number
  /** Why it stopped: signal, empty, max-jobs, max-time, memory, restart. */
  readonly reason: string
}

/**
 * `artisan queue:work`: takes jobs from one connection's queues and runs them through the
 * job pipeline until stopped. `stop()` (SIGTERM, SIGINT, a limit) takes no new job, lets the
 * jobs in hand finish (each within its timeout), then resolves `run()`.
 */
export class Worker {
  private readonly controller = new AbortController()
  private running: Promise<WorkerSummary> | null = null
  private reason = 'signal'
  private processed = 0
  private failed = 0
  private released = 0
  /** When the RSS was last read (performance.now()), for --memory. */
  private memoryCheckedAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly manager: QueueManager,
    private readonly options: WorkerOptions,
  ) {}

  /** Runs until stopped; one run per worker. */
  run(): Promise<WorkerSummary> {
    this.running ??= this.work()
    return this.running
  }

  /** Asks the worker to stop after the jobs in hand. Idempotent; resolves when it has. */
  stop(reason = 'signal'): Promise<WorkerSummary | null> {
    if (!this.controller.signal.aborted) {
      this.reason = reason
      this.controller.abort()
    }
    return this.running ?? Promise.resolve(null)
  }

  private async work(): Promise<WorkerSummary> {
    const driver = await this.manager.connection(this.options.connection)
    const runner = this.manager.runner(this.options.connection, this.options.defaults)
    const timer = this.options.maxTime > 0 ? setTimeout(() => void this.stop('max-time'), this.options.maxTime * 1000) : undefined
    const unwatch = this.options.restart === undefined ? null : this.watchRestart(this.options.restart)
    try {
      await driver.consume({
        queues: this.options.queues,
        concurrency: this.options.concurrency,
        sleep: this.options.sleep,
        stopWhenEmpty: this.options.stopWhenEmpty,
        signal: this.controller.signal,
        reconnect: this.options.reconnect ?? DEFAULT_RECONNECT_POLICY,
        warn: (message) => this.options.onWarning?.(message),
        process: (job) => this.process(job, (delivered) => runner.process(delivered, this.controller.signal)),
      })
    } finally {
      clearTimeout(timer)
      unwatch?.()
    }
    if (!this.controller.signal.aborted) this.reason = 'empty'
    return { processed: this.processed, failed: this.failed, released: this.released, reason: this.reason }
  }

  /**
   * Reads the restart signal at once (the baseline, without holding up the first job), then on
   * a timer; a value other than the baseline stops the worker ('restart'). A read that fails is
   * one warning per outage and the worker goes on: a database that is down cannot have been
   * told to restart. Returns what ends the watch: it does not wait for a read in flight (one
   * stuck on a dead database must not hold up a SIGTERM); that read's outcome is ignored.
   */
  private watchRestart(signal: RestartSignal): () => void {
    let baseline: number | null | undefined
    let failing = false
    let reading: Promise<void> | null = null
    let closed = false
    const read = async () => {
      try {
        const value = await signal.lastRestart()
        failing = false
        if (closed) return
        if (baseline === undefined) baseline = value
        else if (value !== baseline) void this.stop('restart')
      } catch (error) {
        if (!failing && !closed) this.options.onWarning?.(`Cannot read the queue:restart signal (${errorMessage(error)}); still working, trying again.`)
        failing = true
      }
    }
    const check = () => {
      if (reading === null && !closed && !this.controller.signal.aborted) reading = read().finally(() => (reading = null))
    }
    check()
    const interval = setInterval(check, (this.options.restartCheck ?? DEFAULT_RESTART_CHECK) * 1000)
    interval.unref()
    return () => {
      closed = true
      clearInterval(interval)
    }
  }

  private async process(job: DeliveredJob, run: (job: DeliveredJob) => Promise<JobOutcome>): Promise<JobOutcome> {
    const startedAt = new Date()
    const start = performance.now()
    const hooks = this.manager.jobHooks
    const watched = this.options.onJob !== undefined || hooks.active
    const starting: JobStarting | null = watched
      ? { connection: this.options.connection, id: job.id, queue: job.queue, name: jobDisplayName(job.payload), attempt: job.attempts, startedAt }
      : null
    if (starting !== null && hooks.before.length > 0) hooks.run('before', starting)
    const outcome = await run(job)
    const status = outcome.kind === 'done' ? 'DONE' : outcome.kind === 'release' ? 'RELEASED' : 'FAIL'
    this.processed++
    if (outcome.kind === 'failed') this.failed++
    if (outcome.kind === 'release') this.released++
    if (starting !== null) {
      const report: JobReport = {
        ...starting,
        status,
        ms: performance.now() - start,
        ...(outcome.kind === 'failed' ? { error: errorMessage(outcome.error) } : {}),
      }
      this.options.onJob?.(report)
      if (hooks.after.length > 0) hooks.run('after', report)
      if (outcome.kind === 'failed' && hooks.failing.length > 0) hooks.run('failing', report)
    }
    if (this.options.maxJobs > 0 && this.processed >= this.options.maxJobs) void this.stop('max-jobs')
    // Reading the RSS costs up to 100 µs: once a second is often enough for a memory limit.
    if (this.options.memory > 0 && start - this.memoryCheckedAt >= 1_000) {
      this.memoryCheckedAt = start
      if (process.memoryUsage.rss() / 1_048_576 > this.options.memory) void this.stop('memory')
    }
    return outcome
  }
}
