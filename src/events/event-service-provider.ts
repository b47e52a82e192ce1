import { ServiceProvider } from '../foundation/service-provider.ts'
import { Dispatcher } from './dispatcher.ts'
import { emptyDiscovery, registerDiscovered, scanEvents, type DiscoveryReport } from './discovery.ts'
import { readEventCache } from './event-cache.ts'
import { createRedactor, type Redactor } from './redaction.ts'
import { EventStore } from './store/event-store.ts'
import { storeMiddleware } from './store/store-middleware.ts'

declare module '../foundation/container.ts' {
  interface ContainerBindings {
    events: Dispatcher
    'events.discovery': DiscoveryReport
    'events.store': EventStore
    /** config/events.ts `redact` and `redactMask`: what every way out of the process masks. */
    'events.redactor': Redactor
  }
}

/**
 * Binds the dispatcher, the redactor (the `events.redact` rules, which every way out of the
 * process uses) and the event store (streams work whenever its table exists); at boot,
 * registers what discovery finds in app/ and, with EVENTS_STORE_ENABLED, installs the
 * middleware that writes every dispatched event to the store.
 */
export class EventServiceProvider extends ServiceProvider {
  override register(): void {
    // The logger is read at each note: boot may replace it once .env is loaded.
    this.app.singleton('events', () => new Dispatcher({ debug: (message) => this.app.logger.debug(message) }))
    this.app.singleton('events.redactor', () => {
      const config = this.app.config.get('events')
      return createRedactor(config.redact, { mask: config.redactMask })
    })
    this.app.singleton('events.store', () => {
      const config = this.app.config.get('events')
      return new EventStore({
        database: () => this.app.make('db'),
        connection: config.store.connection,
        table: config.store.table,
        registry: this.app.make('queue').registry,
        redact: this.app.make('events.redactor'),
        events: this.app.make('events'),
      })
    })
  }

  /** Registers from the event cache when there is one (`artisan event:cache`), else scans. */
  override async boot(): Promise<void> {
    const config = this.app.config.get('events')
    this.app.make('events').useRedactor(this.app.make('events.redactor'))
    if (config.store.enabled) this.app.make('events').use(storeMiddleware(this.app.make('events.store')))
    if (!config.discovery) {
      this.app.instance('events.discovery', emptyDiscovery)
      return
    }
    const cached = readEventCache(this.app.basePath)
    const manifest =
      cached ??
      (await scanEvents(
        {
          events: this.app.path(config.paths.events),
          listeners: this.app.path(config.paths.listeners),
          subscribers: this.app.path(config.paths.subscribers),
        },
        this.app.basePath,
      ))
    const report = await registerDiscovered(this.app.make('events'), manifest, this.app.basePath, cached !== null)
    this.app.instance('events.discovery', report)
  }
}
