import { ServiceProvider } from '../foundation/service-provider.ts'
import { Dispatcher } from './dispatcher.ts'
import { emptyDiscovery, registerDiscovered, scanEvents, type DiscoveryReport } from './discovery.ts'
import { readEventCache } from './event-cache.ts'

declare module '../foundation/container.ts' {
  interface ContainerBindings {
    events: Dispatcher
    'events.discovery': DiscoveryReport
  }
}

/** Binds the dispatcher and, at boot, registers what discovery finds in app/. */
export class EventServiceProvider extends ServiceProvider {
  override register(): void {
    // The logger is read at each note: boot may replace it once .env is loaded.
    this.app.singleton('events', () => new Dispatcher({ debug: (message) => this.app.logger.debug(message) }))
  }

  /** Registers from the event cache when there is one (`artisan event:cache`), else scans. */
  override async boot(): Promise<void> {
    const config = this.app.config.get('events')
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
