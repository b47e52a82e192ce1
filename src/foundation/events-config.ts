import type { Env } from './env.ts'
import { UserError } from './errors.ts'

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
  /**
   * Defaults for queued listeners (and ShouldQueue events) that set none themselves: the queue
   * (EVENTS_DEFAULT_QUEUE, which `queue:work` then also works), the attempts
   * (EVENTS_RETRY_ATTEMPTS) and the seconds between them (EVENTS_RETRY_DELAY_SECONDS); null
   * keeps the connection's queue and the worker's `--tries`/`--backoff`.
   */
  queued: { queue: string | null; tries: number | null; backoff: number | null }
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
    webhook: {
      urls: string[]
      events: string[]
      tries: number
      backoff: number[]
      /**
       * The body each POST carries (EVENTS_WEBHOOK_FORMAT): `json`, the event document
       * `{ id, name, occurred_at, correlation_id, payload }`; `slack`, Slack's incoming-webhook
       * `{ text }` (with `blocks` when `slackBlocks`); or a function of the (redacted) document
       * that returns the JSON value to post.
       */
      format: WebhookFormat
      /** With the `slack` format, add `blocks` (a section per event) to `{ text }` (EVENTS_WEBHOOK_SLACK_BLOCKS). */
      slackBlocks: boolean
      /** Seconds one POST may take, answer included, before the attempt fails (EVENTS_WEBHOOK_TIMEOUT). */
      timeout: number
    }
  }
}

/** The event as a webhook formatter gets it: the ready-made handlers' document, payload redacted. */
export interface WebhookDocument {
  readonly id?: string
  readonly name: string
  readonly occurred_at: string
  readonly correlation_id?: string
  readonly payload: unknown
}

/** A webhook body by name, or a function returning the JSON value to post. */
export type WebhookFormat = 'json' | 'slack' | ((document: WebhookDocument) => unknown)

/** The events section's defaults, from the environment: what config/events.ts starts from. */
export function defaultEventsConfig(env: Env): EventsConfig {
  return {
    discovery: env.boolean('EVENTS_DISCOVERY', true),
    paths: { events: 'app/events', listeners: 'app/listeners', subscribers: 'app/subscribers' },
    store: {
      enabled: env.boolean('EVENTS_STORE_ENABLED', false),
      table: env.string('EVENTS_STORE_TABLE', 'stored_events'),
      connection: env.get('EVENTS_STORE_CONNECTION') ?? null,
      retention: wholeNumber(env, 'EVENTS_STORE_RETENTION_DAYS', 1),
    },
    redact: env.list('EVENTS_REDACT', ['password', 'password_confirmation', 'token', 'access_token', 'refresh_token', 'secret', 'client_secret', 'authorization', 'cookie', 'api_key']),
    redactMask: env.string('EVENTS_REDACT_MASK', '[REDACTED]'),
    metrics: { enabled: env.boolean('EVENTS_METRICS_ENABLED', false), path: env.string('EVENTS_METRICS_PATH', '/metrics') },
    tracing: { enabled: env.boolean('EVENTS_TRACING_ENABLED', false) },
    queued: {
      queue: env.get('EVENTS_DEFAULT_QUEUE') || null,
      tries: wholeNumber(env, 'EVENTS_RETRY_ATTEMPTS', 1),
      backoff: wholeNumber(env, 'EVENTS_RETRY_DELAY_SECONDS', 0),
    },
    handlers: {
      log: env.boolean('EVENTS_LOG_ENABLED', false),
      jsonLines: { path: env.get('EVENTS_JSONL_PATH') ?? null },
      webhook: {
        urls: env.list('EVENTS_WEBHOOK_URLS', []),
        events: env.list('EVENTS_WEBHOOK_EVENTS', ['*']),
        tries: 5,
        backoff: [1, 5, 10, 30],
        format: env.oneOf('EVENTS_WEBHOOK_FORMAT', ['json', 'slack'], 'json'),
        slackBlocks: env.boolean('EVENTS_WEBHOOK_SLACK_BLOCKS', false),
        timeout: env.number('EVENTS_WEBHOOK_TIMEOUT', 10),
      },
    },
  }
}

/** A whole number of at least `min` from the environment, or null when the key is unset or empty. */
function wholeNumber(env: Env, key: string, min: number): number | null {
  if (!env.get(key)) return null
  const value = env.number(key, min)
  if (!Number.isInteger(value) || value < min) throw new UserError(`${key} must be a whole number of at least ${min}, got "${env.get(key)}".`)
  return value
}
