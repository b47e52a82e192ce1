import { ServiceProvider } from '../foundation/service-provider.ts'
import { DatabaseManager } from './database-manager.ts'

declare module '../foundation/container.ts' {
  interface ContainerBindings {
    db: DatabaseManager
  }
}

/** Binds the database manager; connections open on first use and close at shutdown. */
export class DatabaseServiceProvider extends ServiceProvider {
  override register(): void {
    this.app.singleton('db', () => new DatabaseManager(this.app.config.get('database'), this.app.basePath))
  }

  override async shutdown(): Promise<void> {
    if (this.app.resolved('db')) await this.app.make('db').close()
  }
}
