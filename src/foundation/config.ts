import type { HelmetOptions } from 'helmet'
import type { Env } from './env.ts'
import { defaultEventsConfig, type EventsConfig } from './events-config.ts'
import type { LogLevel } from './logger.ts'
import { defaultEventBusConfig, type EventBusConfig } from './event-bus-config.ts'
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

/**
 * Where job middleware keeps its counts (`RateLimited`, `ThrottlesExceptions`), shared by every
 * worker that uses the same store. Without `store`, a job's connection decides: a bullmq
 * connection counts in its Redis (under its prefix), any other (database, sync, dispatchSync)
 * in the database (the database connection's own, else the default one).
 */
export interface QueueLimiterConfig {
  /** redis, database or memory (this process only: one worker, or tests). Unset: by connection. */
  store?: 'redis' | 'database' | 'memory'
  /** The redis store's server (default: REDIS_URL). */
  url?: string
  /** The redis store's key prefix (default 'herald'). */
  prefix?: string
  /** The database store's connection (default: the default connection). */
  database?: string
  /** The database store's table, created on first use (default 'rate_limits'). */
  table?: string
}

/** config/queue.ts */
export interface QueueConfig {
  default: string
  connections: Record<string, QueueConnectionConfig>
  failed: { database?: string; table: string }
  /** Job middleware's counts (rate limits, exception throttles). */
  limiter?: QueueLimiterConfig
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
  'event-bus': EventBusConfig
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

/** QUEUE_LIMITER (redis, database or memory; unset: by the job's connection) and its store's settings. */
export function defaultLimiterConfig(env: Env): QueueLimiterConfig {
  const store = env.get('QUEUE_LIMITER')
  return {
    ...(store === undefined || store === '' ? {} : { store: env.oneOf('QUEUE_LIMITER', ['redis', 'database', 'memory'], 'database') }),
    url: env.string('REDIS_URL', 'redis://127.0.0.1:6379'),
    prefix: env.string('QUEUE_PREFIX', 'herald'),
    table: env.string('QUEUE_LIMITER_TABLE', 'rate_limits'),
  }
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
      limiter: defaultLimiterConfig(env),
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
    'event-bus': defaultEventBusConfig(env),
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
