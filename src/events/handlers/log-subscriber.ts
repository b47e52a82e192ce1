import type { Dispatcher } from '../dispatcher.ts'
import type { Logger } from '../../foundation/logger.ts'
import type { Redactor } from '../redaction.ts'
import { eventDocument, toJson } from './event-document.ts'

/**
 * One `info` line per event through the application's logger (EVENTS_LOG_ENABLED):
 * `event OrderPlaced 01J9… {"orderId":7,"email":"[REDACTED]"}`, the payload redacted.
 *
 * ```ts
 * events.subscribe(new LogSubscriber(() => app.logger, createRedactor(['password'])))
 * ```
 */
export class LogSubscriber {
  /** @param logger read at each event: boot replaces the application's logger once .env is read. */
  constructor(
    private readonly logger: () => Logger,
    private readonly redact: Redactor,
  ) {}

  subscribe(events: Dispatcher): void {
    events.listen('*', (name: string, payload: unknown) => this.log(name, payload))
  }

  log(name: string, payload: unknown): void {
    const { id, payload: redacted } = eventDocument(name, payload, this.redact)
    this.logger().info(`event ${name}${id === undefined ? '' : ` ${id}`} ${toJson(redacted)}`)
  }
}
