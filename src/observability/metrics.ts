import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { timeLimit, whenSettled } from '../foundation/promises.ts'
import type { EventMiddleware } from '../events/dispatch-contracts.ts'

/** What the metrics read of the application's queues: where jobs wait, and how many. */
export interface ObservedQueues {
  /** The default connection's default queue, or null when it runs jobs in process (sync). */
  defaultQueue(): { readonly connection: string; readonly queue: string } | null
  size(connection: string, queue: string): Promise<number>
}

/** What the metrics read of the event bus: its groups' lag and pending entries, and the outbox. */
export interface ObservedBus {
  status(): Promise<ReadonlyArray<{ readonly stream: string; readonly group: string; readonly pending: number; readonly lag: number | null }>>
  /** True when published events go through an outbox table. */
  readonly hasOutbox: boolean
  /** Rows waiting in the outbox. */
  outboxSize(): Promise<number>
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
 * - `herald_event_bus_lag{stream,group}`: entries of a stream not yet delivered to a group,
 *   `herald_event_bus_pending{stream,group}`: delivered, not yet acknowledged, and
 *   `herald_event_bus_outbox`: events waiting in the outbox; read at each scrape
 */
export class EventMetrics {
  readonly registry = new Registry()
  private readonly dispatched: Counter<'event'>
  private readonly duration: Histogram<'event' | 'listener' | 'outcome'>
  private readonly processed: Counter<'connection' | 'queue' | 'job' | 'status'>
  private readonly failed: Counter<'connection' | 'queue' | 'job'>
  /** The queues whose depth is reported: each connection's default queue, and every queue a job came from. */
  private readonly watched = new Map<string, Set<string>>()

  constructor(
    private readonly queues: ObservedQueues | null,
    bus: ObservedBus | null = null,
  ) {
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
    if (bus !== null) this.observeBus(bus, registers)
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

  /** The bus gauges, read at each scrape; a bus that is down (or slow) is left out of that scrape. */
  private observeBus(bus: ObservedBus, registers: Registry[]): void {
    let reading: Promise<Awaited<ReturnType<ObservedBus['status']>>> | null = null
    // The lag and pending gauges are collected one after the other in a scrape: one status read serves both.
    const groups = () => {
      reading ??= timeLimit(bus.status(), DEPTH_TIMEOUT_MS)
        .catch(() => [])
        .finally(() => setImmediate(() => (reading = null)))
      return reading
    }
    new Gauge({
      name: 'herald_event_bus_lag',
      help: 'Event bus entries not yet delivered to a group, by stream and group.',
      labelNames: ['stream', 'group'],
      registers,
      async collect() {
        this.reset()
        for (const { stream, group, lag } of await groups()) if (lag !== null) this.set({ stream, group }, lag)
      },
    })
    new Gauge({
      name: 'herald_event_bus_pending',
      help: 'Event bus entries delivered to a group and not yet acknowledged, by stream and group.',
      labelNames: ['stream', 'group'],
      registers,
      async collect() {
        this.reset()
        for (const { stream, group, pending } of await groups()) this.set({ stream, group }, pending)
      },
    })
    if (!bus.hasOutbox) return
    new Gauge({
      name: 'herald_event_bus_outbox',
      help: 'Published events waiting in the outbox for the relay.',
      registers,
      async collect() {
        this.reset()
        try {
          const size = await timeLimit(bus.outboxSize(), DEPTH_TIMEOUT_MS)
          this.set(size)
        } catch {
          // The database is down: left out of this scrape; /health says so.
        }
      },
    })
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
