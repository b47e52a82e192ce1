/**
 * What the application calls on each of its providers: `register` on every one, then `boot` on
 * every one, and `shutdown` when it closes. ServiceProvider is the class that implements it.
 */
export interface ProviderLifecycle {
  register(): void
  boot(): void | Promise<void>
  shutdown(): void | Promise<void>
}

/**
 * A provider class as config `app.providers` lists it; the application constructs it with
 * itself. The parameter is left open (`never`) because the config cannot name the Application,
 * which holds the config, without an import circle.
 */
export type ProviderClass = new (app: never) => ProviderLifecycle
