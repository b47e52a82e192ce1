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
  /** The event store: every dispatched event written to a table (EVENTS_STORE_ENABLED, EVENTS_STORE_TABLE). */
  store: { enabled: boolean; table: string; connection: string | null }
  /**
   * What is masked in stored events, logs and the JSON-lines file: key names (`password`, at
   * any depth), dotted paths from the payload's root (`card.number`), and regexes tested
   * against both the key and the dotted path.
   */
  redact: ReadonlyArray<string | RegExp>
  /** Prometheus metrics, served by the web server at `path` (EVENTS_METRICS_ENABLED). */
  metrics: { enabled: boolean; path: string }
  /** OpenTelemetry spans through @opentelemetry/api: dispatches, listeners, jobs (EVENTS_TRACING_ENABLED). */
  tracing: { enabled: boolean }
  /** The ready-made handlers, each off until configured. */
  handlers: {
    /** LogSubscriber: one log line per event (EVENTS_LOG_ENABLED). */
    log: boolean
    /** JsonLinesSubscriber: one JSON line per event appended to this file; null for off (EVENTS_JSONL_PATH). */
    jsonLines: { path: string | null }
    /**
     * WebhookListener: a queued POST of each event matching `events` to every URL
     * (EVENTS_WEBHOOK_URLS, EVENTS_WEBHOOK_EVENTS), tried `tries` times with `backoff` seconds
     * between attempts (the last repeats) before it lands in failed_jobs.
     */
    webhook: { urls: string[]; events: string[]; tries: number; backoff: number[] }
  }
}

/** The events section's defaults, from the environment: what config/events.ts starts from. */
export function defaultEventsConfig(env: Env): EventsConfig {
  return {
    discovery: env.boolean('EVENTS_DISCOVERY', true),
    paths: { events: 'app/events', listeners: 'app/listeners', subscribers: 'app/subscribers' },
    store: { enabled: env.boolean('EVENTS_STORE_ENABLED', false), table: env.string('EVENTS_STORE_TABLE', 'stored_events'), connection: env.get('EVENTS_STORE_CONNECTION') ?? null },
    redact: env.list('EVENTS_REDACT', ['password', 'password_confirmation', 'token', 'secret', 'authorization', 'api_key']),
    metrics: { enabled: env.boolean('EVENTS_METRICS_ENABLED', false), path: env.string('EVENTS_METRICS_PATH', '/metrics') },
    tracing: { enabled: env.boolean('EVENTS_TRACING_ENABLED', false) },
    handlers: {
      log: env.boolean('EVENTS_LOG_ENABLED', false),
      jsonLines: { path: env.get('EVENTS_JSONL_PATH') ?? null },
      webhook: { urls: env.list('EVENTS_WEBHOOK_URLS', []), events: env.list('EVENTS_WEBHOOK_EVENTS', ['*']), tries: 5, backoff: [1, 5, 10, 30] },
    },
  }
}

/** One knex connection in config/database.ts. */
export type DatabaseConnectionConfig =
  | { driver: 'sqlite'; filename: string }
  | { driver: 'pgsql' | 'mysql'; host: string; port: number; user: string; password: string; database: string }

/** config/database.ts */
export interface DatabaseConfig {
  default: string
  connections: Record<string, DatabaseConnectionConfig>
}

/** One connection in config/queue.ts. */
export type QueueConnectionConfig =
  | { driver: 'sync' }
  | {
      driver: 'database'
      /** The database connection; the default one when omitted. */
      database?: string
      table: string
      queue: string
      /**
       * Seconds a reserved job stays its worker's without a renewal (default 10). The live
       * worker renews it every third of that; a job whose lease lapsed (its worker died or lost
       * its connection) is delivered again.
       */
      lease?: number
      /**
       * Laravel's fixed reclaim time, which `lease` replaces: accepted for old configs, not
       * used (a live job is never delivered twice, however long it runs).
       */
      retryAfter?: number
    }
  | {
      driver: 'bullmq'
      url: string
      queue: string
      prefix: string
      /** Seconds a worker's lock on a job lasts before BullMQ deems the job stalled. */
      lockDuration?: number
      /** Seconds between stalled-job checks. */
      stalledInterval?: number
      /** Honour listeners' `priority` (slower per job in Redis). Default false. */
      priorities?: boolean
    }

/** config/queue.ts */
export interface QueueConfig {
  default: string
  connections: Record<string, QueueConnectionConfig>
  failed: { database?: string; table: string }
}

/** One connection in config/broadcasting.ts. */
export type BroadcastConnectionConfig =
  | {
      driver: 'socketio'
      /** The web server that runs the socket.io server: processes without one (queue workers) post there. */
      url: string
    }
  | {
      driver: 'redis'
      url: string
      /**
       * Starts every Redis channel name, on the servers' adapter and the workers' emitter alike:
       * both read this one value, so they cannot disagree.
       */
      prefix: string
    }
  | { driver: 'log' }
  | { driver: 'null' }

/** config/broadcasting.ts */
export interface BroadcastingConfig {
  default: string
  /** APP_KEY: signs the broadcasts another process posts to the web server (socketio driver). */
  key: string | null
  connections: Record<string, BroadcastConnectionConfig>
}

/**
 * Every config file's type, keyed by file name. Add your own files by augmenting it:
 * `declare module 'herald' { interface HeraldConfig { mail: MailConfig } }`.
 */
export interface HeraldConfig {
  app: AppConfig
  events: EventsConfig
  database: DatabaseConfig
  queue: QueueConfig
  broadcasting: BroadcastingConfig
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
    events: defaultEventsConfig(env),
    database: {
      default: env.string('DB_CONNECTION', 'sqlite'),
      connections: {
        sqlite: { driver: 'sqlite', filename: env.string('DB_DATABASE', 'database/database.sqlite') },
        pgsql: {
          driver: 'pgsql',
          host: env.string('DB_HOST', '127.0.0.1'),
          port: env.number('DB_PORT', 5432),
          user: env.string('DB_USERNAME', 'postgres'),
          password: env.string('DB_PASSWORD', ''),
          database: env.string('DB_DATABASE', 'test'),
        },
        mysql: {
          driver: 'mysql',
          host: env.string('DB_HOST', '127.0.0.1'),
          port: env.number('DB_PORT', 3306),
          user: env.string('DB_USERNAME', 'root'),
          password: env.string('DB_PASSWORD', ''),
          database: env.string('DB_DATABASE', 'test'),
        },
      },
    },
    queue: {
      default: env.string('QUEUE_CONNECTION', 'database'),
      connections: {
        sync: { driver: 'sync' },
        database: { driver: 'database', table: 'jobs', queue: 'default', lease: env.number('QUEUE_LEASE', 10) },
        bullmq: {
          driver: 'bullmq',
          url: env.string('REDIS_URL', 'redis://127.0.0.1:6379'),
          queue: 'default',
          prefix: env.string('QUEUE_PREFIX', 'herald'),
          lockDuration: env.number('QUEUE_LOCK_DURATION', 30),
          stalledInterval: env.number('QUEUE_STALLED_INTERVAL', 30),
          priorities: env.boolean('QUEUE_PRIORITIES', false),
        },
      },
      failed: { table: 'failed_jobs' },
    },
    broadcasting: {
      default: env.string('BROADCAST_CONNECTION', 'socketio'),
      key: env.get('APP_KEY') ?? null,
      connections: {
        socketio: { driver: 'socketio', url: env.string('BROADCAST_SERVER_URL', 'http://127.0.0.1:3000') },
        redis: {
          driver: 'redis',
          url: env.string('REDIS_URL', 'redis://127.0.0.1:6379'),
          prefix: env.string('BROADCAST_PREFIX', 'herald-broadcast'),
        },
        log: { driver: 'log' },
        null: { driver: 'null' },
      },
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
