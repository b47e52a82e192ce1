import type { HelmetOptions } from 'helmet'
import type { Env } from './env.ts'
import { UserError } from './errors.ts'
import type { LogLevel } from './logger.ts'
import { defaultOpsConfig, type OpsConfig } from './ops-config.ts'
import type { ProviderClass } from './provider-lifecycle.ts'

/** config/app.ts */
export interface AppConfig {
  name: string
  env: string
  debug: boolean
  logLevel: LogLevel
  /** APP_URL: where users reach the application; `https:` turns on Secure cookies and HSTS. */
  url: string
  /**
   * APP_KEY: signs CSRF tokens and the broadcasts other processes post to the web server.
   * `base64:...` (what `artisan key:generate` writes) or any long random text; null when unset.
   */
  key: string | null
  /** The application's own providers, booted after the framework's. */
  providers: ProviderClass[]
}

/** config/http.ts */
export interface HttpConfig {
  /**
   * Security headers on every response of the web server (helmet): `false` for none, or
   * helmet options merged over Herald's defaults (CSP directives one by one).
   */
  headers: HelmetOptions | false
  /** The cookies Herald sets (XSRF-TOKEN). */
  cookies: {
    /** Sent over HTTPS only. Default: APP_URL is https, or SESSION_SECURE_COOKIE. */
    secure: boolean
    sameSite: 'lax' | 'strict' | 'none'
  }
}

/** Where `artisan serve` listens by default. */
const DEFAULT_APP_URL = 'http://127.0.0.1:3000'

/** The http section's defaults, from the environment: what config/http.ts starts from. */
export function defaultHttpConfig(env: Env): HttpConfig {
  const url = env.string('APP_URL', DEFAULT_APP_URL)
  return {
    headers: {},
    cookies: { secure: env.boolean('SESSION_SECURE_COOKIE', url.startsWith('https:')), sameSite: 'lax' },
  }
}

/** config/events.ts */
export interface EventsConfig {
  /** Register listeners and subscribers found in the folders below at boot. */
  discovery: boolean
  /** Folders, relative to the application's base path. */
  paths: { events: string; listeners: string; subscribers: string }
  /**
   * The event store: every dispatched event written to a table (EVENTS_STORE_ENABLED,
   * EVENTS_STORE_TABLE; aggregate snapshots go to `<table>_snapshots`). `retention`: days
   * after which `artisan event:prune` deletes dispatch-log rows (never stream rows), or null
   * for none (EVENTS_STORE_RETENTION_DAYS, default unset).
   */
  store: { enabled: boolean; table: string; connection: string | null; retention: number | null }
  /**
   * What is masked in everything that leaves the process for someone other than the event's
   * own listeners (stored events, logs, the JSON-lines file, webhooks, failed jobs' errors, the
   * demo's dashboard feed): key names (`password`, at any depth), dotted paths from the
   * payload's root (`card.number`), both case- and separator-insensitive (`api_key` masks
   * `apiKey` and `API-KEY`), and regexes tested against both the key and the dotted path
   * (EVENTS_REDACT).
   */
  redact: ReadonlyArray<string | RegExp>
  /** What a masked value becomes (EVENTS_REDACT_MASK, default `[REDACTED]`). */
  redactMask: string
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

/** EVENTS_STORE_RETENTION_DAYS: a whole number of days from 1, or null when unset. */
function retentionDays(env: Env): number | null {
  if (env.get('EVENTS_STORE_RETENTION_DAYS') === undefined) return null
  const days = env.number('EVENTS_STORE_RETENTION_DAYS', 0)
  if (!Number.isInteger(days) || days < 1) throw new UserError(`EVENTS_STORE_RETENTION_DAYS must be a whole number of days from 1 (or unset for no pruning), got "${env.get('EVENTS_STORE_RETENTION_DAYS')}".`)
  return days
}

/** The events section's defaults, from the environment: what config/events.ts starts from. */
export function defaultEventsConfig(env: Env): EventsConfig {
  return {
    discovery: env.boolean('EVENTS_DISCOVERY', true),
    paths: { events: 'app/events', listeners: 'app/listeners', subscribers: 'app/subscribers' },
    store: {
      enabled: env.boolean('EVENTS_STORE_ENABLED', false),
      table: env.string('EVENTS_STORE_TABLE', 'stored_events'),
      connection: env.get('EVENTS_STORE_CONNECTION') ?? null,
      retention: retentionDays(env),
    },
    redact: env.list('EVENTS_REDACT', ['password', 'password_confirmation', 'token', 'access_token', 'refresh_token', 'secret', 'client_secret', 'authorization', 'cookie', 'api_key']),
    redactMask: env.string('EVENTS_REDACT_MASK', '[REDACTED]'),
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
       * Jobs a worker may reserve ahead of its free slots (default 500): it claims them in one
       * statement, and holds about 50 ms of work ahead, so slow jobs are not hoarded. 0 claims
       * only for free slots. A job counts as an attempt once it starts, so jobs a killed worker
       * held but never started run again without using up a try.
       */
      prefetch?: number
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

/**
 * What one socket can make the socket.io server hold or do (config/broadcasting.ts `limits`).
 * Over a limit the socket gets `subscription_error (channel, status)` and stays connected.
 */
export interface BroadcastLimits {
  /** Channels one socket may be in (or be joining) at once (BROADCAST_MAX_CHANNELS). Over it: 413. */
  channelsPerSocket: number
  /** Characters in a channel name, and in a client event's name (BROADCAST_MAX_CHANNEL_NAME). Over it: 414. */
  channelNameLength: number
  /** Subscribe requests one socket may make per `seconds` (BROADCAST_SUBSCRIBE_RATE, BROADCAST_SUBSCRIBE_RATE_SECONDS). Over it: 429. */
  subscribeRate: { points: number; seconds: number }
  /** Bytes of a whisper's data as JSON (BROADCAST_MAX_CLIENT_EVENT_BYTES). Over it: 413. */
  clientEventBytes: number
  /**
   * Bytes of one socket.io frame, socket.io's `maxHttpBufferSize` (BROADCAST_MAX_FRAME_BYTES):
   * the transport closes a connection that sends a bigger one, before it is read into memory.
   */
  frameBytes: number
}

/** The limits' defaults, from the environment. */
export function defaultBroadcastLimits(env: Env): BroadcastLimits {
  return {
    channelsPerSocket: env.number('BROADCAST_MAX_CHANNELS', 100),
    channelNameLength: env.number('BROADCAST_MAX_CHANNEL_NAME', 200),
    // As many as the channel limit: a page that holds the most channels can subscribe to all of them at once.
    subscribeRate: { points: env.number('BROADCAST_SUBSCRIBE_RATE', 100), seconds: env.number('BROADCAST_SUBSCRIBE_RATE_SECONDS', 10) },
    clientEventBytes: env.number('BROADCAST_MAX_CLIENT_EVENT_BYTES', 10_000),
    frameBytes: env.number('BROADCAST_MAX_FRAME_BYTES', 100_000),
  }
}

/**
 * The browser origins allowed to open a socket and to call `/broadcasting/auth`:
 * BROADCAST_ALLOWED_ORIGINS (comma-separated) when set, else APP_URL's origin and, when
 * APP_ENV is `local` or `testing`, localhost, 127.0.0.1 and [::1] on any port.
 */
export function defaultAllowedOrigins(env: Env): string[] {
  const origins: string[] = []
  const appUrl = env.get('APP_URL')
  if (appUrl !== undefined) origins.push(appUrl)
  if (['local', 'testing'].includes(env.string('APP_ENV', 'local'))) {
    for (const host of ['localhost', '127.0.0.1', '[::1]']) origins.push(`http://${host}:*`, `https://${host}:*`)
  }
  return env.list('BROADCAST_ALLOWED_ORIGINS', origins)
}

/** config/broadcasting.ts */
export interface BroadcastingConfig {
  default: string
  /** APP_KEY: signs the broadcasts another process posts to the web server (socketio driver). */
  key: string | null
  connections: Record<string, BroadcastConnectionConfig>
  /** Bounds on what one socket can make the server hold. */
  limits: BroadcastLimits
  /**
   * Origins whose pages may connect (`https://shop.example.com`; `http://localhost:*` for any
   * port; `*` for any origin). A request without an `Origin` header (not a browser) is allowed.
   */
  allowedOrigins: string[]
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
  http: HttpConfig
  ops: OpsConfig
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
      url: env.string('APP_URL', DEFAULT_APP_URL),
      key: env.get('APP_KEY') ?? null,
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
        database: { driver: 'database', table: 'jobs', queue: 'default', lease: env.number('QUEUE_LEASE', 10), prefetch: env.number('QUEUE_PREFETCH', 500) },
        bullmq: {
          driver: 'bullmq',
          url: env.string('REDIS_URL', 'redis://127.0.0.1:6379'),
          queue: 'default',
          prefix: env.string('QUEUE_PREFIX', 'herald'),
          lockDuration: env.number('QUEUE_LOCK_DURATION', 6),
          stalledInterval: env.number('QUEUE_STALLED_INTERVAL', 4),
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
      limits: defaultBroadcastLimits(env),
      allowedOrigins: defaultAllowedOrigins(env),
    },
    http: defaultHttpConfig(env),
    ops: defaultOpsConfig(env),
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
