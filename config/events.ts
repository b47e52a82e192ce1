import { defaultEventsConfig, defineConfig } from 'herald'

export default defineConfig((env) => {
  // discovery (EVENTS_DISCOVERY) and the app/ folders; the event store, metrics, tracing and
  // the ready-made handlers, off until switched on here or in .env (see .env.example):
  // EVENTS_STORE_ENABLED, EVENTS_METRICS_ENABLED, EVENTS_TRACING_ENABLED, EVENTS_LOG_ENABLED,
  // EVENTS_JSONL_PATH, EVENTS_WEBHOOK_URLS.
  const defaults = defaultEventsConfig(env)
  return {
    ...defaults,
    // Masked in stored events, logs and the JSON-lines file: keys, dotted paths, regexes
    // (EVENTS_REDACT), and here anything about cards.
    redact: [...defaults.redact, /card/i],
  }
})
