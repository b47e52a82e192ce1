import type { Env } from './env.ts'
import type { LogLevel } from './logger.ts'
import type { ServiceProviderClass } from './service-provider.ts'

/** config/app.ts */
export interface AppConfig {
  name: string
  env: string
  debug: boolean
  logLevel: LogLevel
  /** The application's own providers, booted after the framework's. */
  providers: ServiceProviderClass[]
}

/** config/events.ts */
export interface EventsConfig {
  /** Register listeners and subscribers found in the folders below at boot. */
  discovery: boolean
  /** Folders, relative to the application's base path. */
  paths: { events: string; listeners: string; subscribers: string }
}

/**
 * Every config file's type, keyed by file name. Add your own files by augmenting it:
 * `declare module 'herald' { interface HeraldConfig { mail: MailConfig } }`.
 */
export interface HeraldConfig {
  app: AppConfig
  events: EventsConfig
}

/** A config file's default export: a factory of the typed section, given the environment. */
export interface ConfigFactory<T> {
  readonly configFactory: (env: Env) => T
}

/**
 * Declares a config file. The factory runs once per application with that application's
 * environment, so tests can boot applications with different settings side by side.
 */
export function defineConfig<T>(factory: (env: Env) => T): ConfigFactory<T> {
  return { configFactory: factory }
}

export function isConfigFactory(value: unknown): value is ConfigFactory<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as ConfigFactory<unknown>).configFactory === 'function'
}

/** The framework's defaults, used for any file the application does not have. */
export function defaultConfig(env: Env): HeraldConfig {
  return {
    app: {
      name: env.string('APP_NAME', 'Herald'),
      env: env.string('APP_ENV', 'local'),
      debug: env.boolean('APP_DEBUG', false),
      logLevel: env.oneOf('LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'], 'info'),
      providers: [],
    },
    events: {
      discovery: env.boolean('EVENTS_DISCOVERY', true),
      paths: { events: 'app/events', listeners: 'app/listeners', subscribers: 'app/subscribers' },
    },
  }
}

/** Typed access to the loaded configuration. */
export class ConfigRepository {
  constructor(private readonly values: HeraldConfig) {}

  get<K extends keyof HeraldConfig>(key: K): HeraldConfig[K] {
    return this.values[key]
  }

  /** Replaces one section (tests, or a provider adjusting settings before boot). */
  set<K extends keyof HeraldConfig>(key: K, value: HeraldConfig[K]): void {
    this.values[key] = value
  }
}
