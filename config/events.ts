import { defaultEventsConfig, defineConfig } from 'herald'

export default defineConfig((env) => ({
  ...defaultEventsConfig(env),
  // Register every listener in app/listeners and subscriber in app/subscribers at boot.
  discovery: env.boolean('EVENTS_DISCOVERY', true),
  paths: { events: 'app/events', listeners: 'app/listeners', subscribers: 'app/subscribers' },
  // The event store, metrics, tracing and the ready-made handlers are off until switched on
  // here or in .env (see .env.example): EVENTS_STORE_ENABLED, EVENTS_METRICS_ENABLED,
  // EVENTS_TRACING_ENABLED, EVENTS_LOG_ENABLED, EVENTS_JSONL_PATH, EVENTS_WEBHOOK_URLS.
  // Masked in stored events, logs and the JSON-lines file: keys, dotted paths, regexes.
  redact: [...env.list('EVENTS_REDACT', ['password', 'password_confirmation', 'token', 'secret', 'authorization', 'api_key']), /card/i],
}))
