import type { Application } from './application.ts'
import type { ProviderLifecycle } from './provider-lifecycle.ts'

/**
 * Service providers wire the application: `register` binds things, synchronously (no other
 * provider's services may be used yet), `boot` uses them once all are registered, `shutdown` closes
 * what the provider opened. `boot` and `shutdown` may be async.
 *
 * ```ts
 * export default class AppServiceProvider extends ServiceProvider {
 *   boot() { this.app.make('events').listen('user.*', (name) => log(name)) }
 * }
 * ```
 */
export abstract class ServiceProvider implements ProviderLifecycle {
  constructor(protected readonly app: Application) {}
  register(): void {}
  boot(): void | Promise<void> {}
  shutdown(): void | Promise<void> {}
}

export type ServiceProviderClass = new (app: Application) => ServiceProvider
