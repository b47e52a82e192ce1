import { ServiceProvider } from '../foundation/service-provider.ts'
import type { FailedJobStore } from './failed-job-store.ts'
import { QueueManager } from './queue-manager.ts'

declare module '../foundation/container.ts' {
  interface ContainerBindings {
    queue: QueueManager
  }
}

/**
 * Binds the queue manager and hands it the dispatcher's queued listeners. Failed jobs go to
 * the `failed_jobs` table of the database (config/queue.ts `failed`), whatever the driver.
 */
export class QueueServiceProvider extends ServiceProvider {
  private failedStore: Promise<FailedJobStore> | null = null

  override register(): void {
    this.app.singleton(
      'queue',
      () =>
        new QueueManager({
          config: this.app.config.get('queue'),
          events: this.app.make('events'),
          database: () => this.app.make('db'),
          discovery: () => (this.app.resolved('events.discovery') ? this.app.make('events.discovery') : undefined),
          logger: this.app.logger,
          listenerDefaults: this.app.config.get('events').queued,
          failedJobs: () => (this.failedStore ??= this.openFailedStore()),
          ...(this.app.bound('events.redactor') && { redactor: () => this.app.make('events.redactor') }),
        }),
    )
  }

  override boot(): void {
    this.app.make('events').useQueue(this.app.make('queue'))
  }

  override async shutdown(): Promise<void> {
    if (this.app.resolved('queue')) await this.app.make('queue').close()
    if (this.failedStore !== null) await (await this.failedStore).close()
  }

  private async openFailedStore(): Promise<FailedJobStore> {
    const { DatabaseFailedJobStore } = await import('./database-failed-job-store.ts')
    const failed = this.app.config.get('queue').failed
    return new DatabaseFailedJobStore(this.app.make('db'), failed.table, failed.database)
  }
}
