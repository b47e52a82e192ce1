import { ServiceProvider } from '../foundation/service-provider.ts'
import { Dispatcher } from './dispatcher.ts'
import { discoverEvents, type DiscoveryReport } from './discovery.ts'

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

  override async boot(): Promise<void> {
    const config = this.app.config.get('events')
    const empty: DiscoveryReport = { events: new Map(), listeners: [], subscribers: [] }
    if (!config.discovery) {
      this.app.instance('events.discovery', empty)
      return
    }
    const report = await discoverEvents(
      this.app.make('events'),
      {
        events: this.app.path(config.paths.events),
        listeners: this.app.path(config.paths.listeners),
        subscribers: this.app.path(config.paths.subscribers),
      },
      this.app.basePath,
    )
    this.app.instance('events.discovery', report)
  }
}
