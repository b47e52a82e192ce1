import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { timeLimit, whenSettled } from '../foundation/promises.ts'
import type { EventMiddleware } from '../events/dispatch-contracts.ts'

/** What the metrics read of the application's queues: where jobs wait, and how many. */
export interface ObservedQueues {
  /** The default connection's default queue, or null when it runs jobs in process (sync). */
  defaultQueue(): { readonly connection: string; readonly queue: string } | null
  size(connection: string, queue: string): Promise<number>
}

/** A job as the metrics label it. */
export interface ObservedJob {
  readonly connection: string
  readonly queue: string
  readonly name: string
}

/** How long a queue's size may take when Prometheus scrapes before it is left out. */
const DEPTH_TIMEOUT_MS = 1_000

/**
 * Prometheus metrics (prom-client) of this process, in a registry of their own:
 *
 * - `herald_events_dispatched_total{event}`
 * - `herald_listener_duration_seconds{event,listener,outcome}`: outcome `success`, `error`, or
 *   `queued` (the time to queue it; the job is counted below)
 * - `herald_jobs_processed_total{connection,queue,job,status}`: status DONE, RELEASED or FAIL
 * - `herald_jobs_failed_total{connection,queue,job}`: jobs that failed for good
 * - `herald_queue_depth{connection,queue}`: jobs waiting, read at each scrape
 */
export class EventMetrics {
  readonly registry = new Registry()
  private readonly dispatched: Counter<'event'>
  private readonly duration: Histogram<'event' | 'listener' | 'outcome'>
  private readonly processed: Counter<'connection' | 'queue' | 'job' | 'status'>
  private readonly failed: Counter<'connection' | 'queue' | 'job'>
  /** The queues whose depth is reported: each connection's default queue, and every queue a job came from. */
  private readonly watched = new Map<string, Set<string>>()

  constructor(private readonly queues: ObservedQueues | null) {
    const registers = [this.registry]
    this.dispatched = new Counter({ name: 'herald_events_dispatched_total', help: 'Events dispatched, by name.', labelNames: ['event'], registers })
    this.duration = new Histogram({
      name: 'herald_listener_duration_seconds',
      help: 'Time each listener took, by event, listener and outcome.',
      labelNames: ['event', 'listener', 'outcome'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    })
    this.processed = new Counter({
      name: 'herald_jobs_processed_total',
      help: 'Jobs run by this process, by connection, queue, job and status.',
      labelNames: ['connection', 'queue', 'job', 'status'],
      registers,
    })
    this.failed = new Counter({ name: 'herald_jobs_failed_total', help: 'Jobs that failed for good, by connection, queue and job.', labelNames: ['connection', 'queue', 'job'], registers })
    const metrics = this
    new Gauge({
      name: 'herald_queue_depth',
      help: 'Jobs waiting, by connection and queue.',
      labelNames: ['connection', 'queue'],
      registers,
      async collect() {
        this.reset()
        for (const [connection, queue, size] of await metrics.depths()) this.set({ connection, queue }, size)
      },
    })
  }

  /** Counts a job this process ran (a queue's `after` hook). */
  jobProcessed(job: ObservedJob & { readonly status: string }): void {
    this.watch(job.connection, job.queue)
    this.processed.inc({ connection: job.connection, queue: job.queue, job: job.name, status: job.status })
  }

  /** Counts a job that failed for good (a queue's `failing` hook). */
  jobFailed(job: ObservedJob): void {
    this.failed.inc({ connection: job.connection, queue: job.queue, job: job.name })
  }

  /** The dispatcher middleware: counts dispatches and times listeners. */
  middleware(): EventMiddleware {
    return {
      name: 'EventMetrics',
      dispatching: (record) => {
        if (!record.redispatch && !record.replaying) this.dispatched.inc({ event: record.name })
      },
      listener: (record, listener, run) => {
        const start = performance.now()
        const ok = listener.queued ? 'queued' : 'success'
        return whenSettled(run, (error) =>
          this.duration.observe({ event: record.name, listener: listener.name, outcome: error === null ? ok : 'error' }, (performance.now() - start) / 1000),
        )
      },
    }
  }

  /** The text Prometheus scrapes, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }

  private watch(connection: string, queue: string): void {
    let queues = this.watched.get(connection)
    if (queues === undefined) this.watched.set(connection, (queues = new Set()))
    queues.add(queue)
  }

  private async depths(): Promise<Array<[string, string, number]>> {
    const source = this.queues
    if (source === null) return []
    const home = source.defaultQueue()
    if (home !== null) this.watch(home.connection, home.queue)
    const sizes = await Promise.all(
      [...this.watched].flatMap(([connection, queues]) =>
        [...queues].map(async (queue): Promise<[string, string, number] | null> => {
          try {
            const size = await timeLimit(source.size(connection, queue), DEPTH_TIMEOUT_MS)
            return [connection, queue, size]
          } catch {
            // A connection that is down is left out of this scrape; /health says it is down.
            return null
          }
        }),
      ),
    )
    return sizes.filter((entry): entry is [string, string, number] => entry !== null)
  }
}
