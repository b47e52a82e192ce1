import { ServiceProvider } from '../foundation/service-provider.ts'
import { EventBusManager } from './event-bus-manager.ts'

declare module '../foundation/container.ts' {
  interface ContainerBindings {
    'event-bus': EventBusManager
  }
}

/**
 * Binds the event bus (config/event-bus.ts) and hands it the dispatcher's ShouldPublish events.
 * The driver and its engine are loaded on the first publish or `event-bus:work`.
 */
export class EventBusServiceProvider extends ServiceProvider {
  override register(): void {
    this.app.singleton(
      'event-bus',
      () =>
        new EventBusManager({
          config: this.app.config.get('event-bus'),
          logger: this.app.logger,
          eventClass: (name) =>
            this.app.make('events').eventClass(name) ?? (this.app.resolved('events.discovery') ? this.app.make('events.discovery').events.get(name) : undefined),
          ...(this.app.bound('db') && { database: () => this.app.make('db') }),
        }),
    )
  }

  override boot(): void {
    this.app.make('events').usePublisher(this.app.make('event-bus'))
  }

  override async shutdown(): Promise<void> {
    if (this.app.resolved('event-bus')) await this.app.make('event-bus').close()
  }
}
