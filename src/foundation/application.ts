import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigRepository, defaultConfig, isConfigFactory, type HeraldConfig } from './config.ts'
import { Container } from './container.ts'
import { Env, type EnvSource } from './env.ts'
import { UserError } from './errors.ts'
import { createLogger, type Logger } from './logger.ts'
import type { ProviderLifecycle } from './provider-lifecycle.ts'

export interface ApplicationOptions {
  /** The project root holding app/, config/ and .env. Default: the current directory. */
  basePath?: string
  /** The environment to read instead of `process.env` (tests). `.env` still fills the gaps. */
  env?: EnvSource
  /** Path of the .env file relative to basePath, or false to read none. Default: `.env`. */
  envFile?: string | false
  /** Read config/*.ts. Default true; false uses the framework's defaults only. */
  loadConfig?: boolean
  /** Framework providers, registered before the application's own (config `app.providers`). */
  providers?: ProviderConstructor[]
  /** Adjusts the loaded config before providers register (tests). */
  configure?: (config: HeraldConfig) => void
}

type Cleanup = () => void | Promise<void>

/** A provider class, constructed with the application: ServiceProviderClass is one. */
export type ProviderConstructor = new (app: Application) => ProviderLifecycle

/**
 * The application: environment, typed config, the service container and the providers'
 * lifecycle. `boot()` loads everything; `shutdown()` closes what was opened, in reverse.
 *
 * ```ts
 * const app = createApplication({ basePath: process.cwd() })
 * await app.boot()
 * await app.make('events').dispatch(new OrderPlaced(1))
 * await app.shutdown()
 * ```
 */
export class Application extends Container {
  readonly basePath: string
  env: Env
  config: ConfigRepository
  logger: Logger
  private readonly providers: ProviderLifecycle[] = []
  private readonly cleanups: Cleanup[] = []
  private booting: Promise<void> | null = null
  private closing: Promise<void> | null = null

  constructor(private readonly options: ApplicationOptions = {}) {
    super()
    this.basePath = resolve(options.basePath ?? process.cwd())
    // The environment is read at boot; until then the framework's defaults apply, so that
    // constructing an application never fails on a bad setting.
    this.env = new Env({})
    this.config = new ConfigRepository(defaultConfig(this.env))
    this.logger = createLogger(this.config.get('app').logLevel)
    for (const Provider of options.providers ?? []) this.providers.push(new Provider(this))
    for (const provider of this.providers) provider.register()
  }

  /** A path inside the project: `app.path('app/listeners')`. */
  path(...segments: string[]): string {
    return join(this.basePath, ...segments)
  }

  get isBooted(): boolean {
    return this.booting !== null
  }

  /** Loads .env and config/, registers and boots every provider. Runs once. */
  boot(): Promise<void> {
    this.booting ??= this.runBoot()
    return this.booting
  }

  /** Registers a step for `shutdown()`; steps run in reverse order. */
  onShutdown(cleanup: Cleanup): void {
    this.cleanups.push(cleanup)
  }

  /**
   * Shuts providers down and runs the cleanup steps, newest first, each in its own try/catch
   * so one failure does not keep the others from closing. Idempotent: one memoised promise.
   * Rejects with an AggregateError when any step failed.
   */
  shutdown(): Promise<void> {
    this.closing ??= this.runShutdown()
    return this.closing
  }

  private async runBoot(): Promise<void> {
    const envFile = this.options.envFile ?? '.env'
    this.env = Env.load(envFile === false ? false : this.path(envFile), this.options.env ?? process.env)
    const config = defaultConfig(this.env)
    if (this.options.loadConfig !== false) await this.loadConfigFiles(config)
    this.options.configure?.(config)
    this.config = new ConfigRepository(config)
    this.logger = createLogger(config.app.logLevel)
    // Config types its provider classes loosely (it cannot import the Application); they are
    // constructed with the application as every provider class is.
    const appProviders = config.app.providers.map((Provider) => new (Provider as ProviderConstructor)(this))
    this.providers.push(...appProviders)
    for (const provider of appProviders) provider.register()
    for (const provider of this.providers) await provider.boot()
  }

  private async loadConfigFiles(config: HeraldConfig): Promise<void> {
    const dir = this.path('config')
    if (!existsSync(dir)) return
    const files = readdirSync(dir).filter((file) => /^[\w-]+\.(ts|js|mjs)$/.test(file) && !file.endsWith('.d.ts'))
    for (const file of files) {
      const key = file.replace(/\.(ts|js|mjs)$/, '')
      const module = (await import(pathToFileURL(join(dir, file)).href)) as { default?: unknown }
      if (!isConfigFactory(module.default)) {
        throw new UserError(`config/${file} must export default defineConfig((env) => ({ ... })).`)
      }
      const section = module.default.configFactory(this.env)
      const base = (config as unknown as Record<string, unknown>)[key]
      ;(config as unknown as Record<string, unknown>)[key] =
        base && typeof base === 'object' && section && typeof section === 'object' ? { ...base, ...section } : section
    }
  }

  private async runShutdown(): Promise<void> {
    const errors: unknown[] = []
    // What was started after boot (servers, workers) closes before the providers that it
    // uses (the broadcast manager, the database), newest first throughout.
    const steps: Cleanup[] = [
      ...[...this.cleanups].reverse(),
      ...[...this.providers].reverse().map((provider) => () => provider.shutdown()),
    ]
    for (const step of steps) {
      try {
        await step()
      } catch (error) {
        errors.push(error)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} shutdown step(s) failed`)
  }
}
