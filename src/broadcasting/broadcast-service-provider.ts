import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { ServiceProvider } from '../foundation/service-provider.ts'
import { UserError } from '../foundation/errors.ts'
import { BroadcastManager } from './broadcast-manager.ts'
import { ChannelRegistry } from './channel-registry.ts'

declare module '../foundation/container.ts' {
  interface ContainerBindings {
    broadcast: BroadcastManager
    'broadcast.channels': ChannelRegistry
  }
}

/** Where an application's channel authorization callbacks live, relative to its base path. */
const CHANNEL_FILES = ['app/channels.ts', 'app/channels.js']

/**
 * Binds the broadcast manager and the channel registry, hands the manager the dispatcher's
 * ShouldBroadcast events and the queue's broadcast jobs, and loads app/channels.ts.
 */
export class BroadcastServiceProvider extends ServiceProvider {
  override register(): void {
    this.app.singleton('broadcast.channels', () => new ChannelRegistry())
    this.app.singleton(
      'broadcast',
      () =>
        new BroadcastManager({
          // Read at each use: boot replaces the config and the logger once .env is loaded.
          config: () => this.app.config.get('broadcasting'),
          events: () => this.app.make('events'),
          logger: () => this.app.logger,
        }),
    )
  }

  override async boot(): Promise<void> {
    const manager = this.app.make('broadcast')
    this.app.make('events').useBroadcaster(manager)
    if (this.app.bound('queue')) {
      const queue = this.app.make('queue')
      manager.useQueue(queue)
      queue.useBroadcaster(manager)
    }
    await this.loadChannels()
  }

  override async shutdown(): Promise<void> {
    if (this.app.resolved('broadcast')) await this.app.make('broadcast').close()
  }

  /**
   * Imports app/channels.ts when there is one. Its default export, when a function, is called
   * with this application's channel registry; registrations through the `Broadcast` facade at
   * the top level of the file work too, for the application behind the facades.
   */
  private async loadChannels(): Promise<void> {
    const file = CHANNEL_FILES.map((name) => this.app.path(name)).find((path) => existsSync(path))
    if (file === undefined) return
    const module = (await import(pathToFileURL(file).href)) as { default?: unknown }
    if (module.default === undefined) return
    if (typeof module.default !== 'function') {
      throw new UserError(`${file}: the default export must be a function (channels) => { channels.channel(...) }, or nothing.`)
    }
    await (module.default as (channels: ChannelRegistry) => unknown)(this.app.make('broadcast.channels'))
  }
}
