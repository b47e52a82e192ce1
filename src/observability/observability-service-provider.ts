import { ServiceProvider } from '../foundation/service-provider.ts'
import { useTraceparent } from '../events/event-context.ts'
import type { EventMetrics, ObservedBus } from './metrics.ts'
import type { EventTracing } from './tracing.ts'

declare module '../foundation/container.ts' {
  interface ContainerBindings {
    /** Prometheus metrics, bound when `events.metrics.enabled` (EVENTS_METRICS_ENABLED). */
    'events.metrics': EventMetrics
    /** The tracer's spans, bound when `events.tracing.enabled` (EVENTS_TRACING_ENABLED). */
    'events.tracing': EventTracing
  }
}

/**
 * Metrics (prom-client) and tracing (OpenTelemetry), each switched on in config/events.ts
 * (`metrics.enabled`, `tracing.enabled`). Off, nothing is loaded and the dispatcher keeps its
 * plain path. prom-client and @opentelemetry/api are imported only when switched on.
 */
export class ObservabilityServiceProvider extends ServiceProvider {
  private readonly undo: Array<() => void> = []

  override async boot(): Promise<void> {
    const config = this.app.config.get('events')
    const events = this.app.make('events')
    const queue = this.app.bound('queue') ? this.app.make('queue') : null
    if (config.metrics.enabled) {
      const { EventMetrics } = await import('./metrics.ts')
      const metrics = new EventMetrics(
        queue === null
          ? null
          : {
              defaultQueue: () => (queue.settings().driver === 'sync' ? null : { connection: queue.defaultConnection, queue: queue.defaultQueue() }),
              size: (connection, name) => queue.connection(connection).then((driver) => driver.size(name)),
            },
        this.observedBus(),
      )
      if (queue !== null) {
        queue.jobHooks.add('after', (job) => metrics.jobProcessed(job))
        queue.jobHooks.add('failing', (job) => metrics.jobFailed(job))
      }
      this.app.instance('events.metrics', metrics)
      this.undo.push(events.use(metrics.middleware()))
    }
    if (config.tracing.enabled) {
      const { EventTracing, traceparentOf } = await import('./tracing.ts')
      const tracing = new EventTracing()
      this.app.instance('events.tracing', tracing)
      this.undo.push(events.use(tracing.middleware()))
      useTraceparent(traceparentOf)
      this.undo.push(() => useTraceparent(null))
      if (queue !== null) {
        queue.instrumentJobs(tracing.instrumentJob)
        this.undo.push(() => queue.instrumentJobs(null))
      }
    }
  }

  /** The event bus as the metrics read it: a local bus has no streams, so it is left out. */
  private observedBus(): ObservedBus | null {
    if (!this.app.bound('event-bus')) return null
    const bus = this.app.make('event-bus')
    if (bus.driverName === 'local') return null
    return { status: () => bus.status(), hasOutbox: bus.hasOutbox, outboxSize: () => bus.outboxSize() }
  }

  override shutdown(): void {
    for (const undo of this.undo.splice(0).reverse()) undo()
  }
}
