import { defaultEventsConfig, defineConfig } from 'herald'

export default defineConfig((env) => {
  // discovery (EVENTS_DISCOVERY) and the app/ folders; the event store, metrics, tracing and
  // the ready-made handlers, off until switched on here or in .env (see .env.example):
  // EVENTS_STORE_ENABLED (EVENTS_STORE_RETENTION_DAYS for event:prune), EVENTS_METRICS_ENABLED,
  // EVENTS_TRACING_ENABLED, EVENTS_LOG_ENABLED, EVENTS_JSONL_PATH, EVENTS_WEBHOOK_URLS
  // (EVENTS_WEBHOOK_FORMAT=slack for Slack's { text };
  // `handlers: { ...defaults.handlers, webhook: { ...defaults.handlers.webhook, format: (event) => ({ content: event.name }) } }`
  // posts a shape of your own, made from the redacted event).
  const defaults = defaultEventsConfig(env)
  return {
    ...defaults,
    // Masked in everything that leaves the process for someone other than the event's own
    // listeners (stored events, logs, the JSON-lines file, webhooks, failed jobs' errors, the
    // dashboard feed): keys matched ignoring case and separators, dotted paths, regexes
    // (EVENTS_REDACT; the mask is EVENTS_REDACT_MASK), and here anything about cards.
    redact: [...defaults.redact, /card/i],
  }
})
