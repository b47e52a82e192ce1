import { isAbsolute } from 'node:path'
import { ServiceProvider } from '../../foundation/service-provider.ts'
import type { EventMiddleware } from '../dispatch-contracts.ts'
import { JsonLinesSubscriber } from './json-lines-subscriber.ts'
import { LogSubscriber } from './log-subscriber.ts'
import { WebhookSubscriber } from './webhook-listener.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/**
 * An event's id and correlation id exist only on the dispatcher's instrumented path: with a
 * handler on, this (empty) middleware puts every dispatch there, so each line and webhook body
 * has them, and a dispatch made inside a queued job never shows the job's event id as its own.
 */
const eventIds: EventMiddleware = { name: 'event-handlers' }

/**
 * The ready-made handlers of config/events.ts `handlers`, each off until configured:
 * LogSubscriber (EVENTS_LOG_ENABLED), JsonLinesSubscriber (EVENTS_JSONL_PATH) and
 * WebhookListener (EVENTS_WEBHOOK_URLS, in the body EVENTS_WEBHOOK_FORMAT names). Registered before the application's discovered
 * listeners, so they see an event even when one of those returns `false`.
 */
export class EventHandlersServiceProvider extends ServiceProvider {
  private readonly undo: Array<() => void> = []

  override boot(): void {
    const config = this.app.config.get('events')
    const { log, jsonLines, webhook } = config.handlers
    if (!log && jsonLines.path === null && webhook.urls.length === 0) return
    const events = this.app.make('events')
    const redact = this.app.make('events.redactor')
    this.undo.push(events.use(eventIds))
    if (log) events.subscribe(new LogSubscriber(() => this.app.logger, redact))
    if (jsonLines.path !== null) {
      const path = isAbsolute(jsonLines.path) ? jsonLines.path : this.app.path(jsonLines.path)
      const report = (error: unknown) => this.app.logger.error(`Events could not be written to ${path}: ${errorMessage(error)}`)
      const file = new JsonLinesSubscriber(path, redact, { report })
      events.subscribe(file)
      this.app.onShutdown(() => file.close())
    }
    if (webhook.urls.length > 0) {
      events.subscribe(new WebhookSubscriber({ ...webhook, redact, queue: () => this.app.make('queue') }))
    }
  }

  override shutdown(): void {
    for (const undo of this.undo.splice(0)) undo()
  }
}
