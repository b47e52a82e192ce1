import type { WebhookFormat } from '../../foundation/events-config.ts'
import { UserError } from '../../foundation/errors.ts'
import type { Redactor } from '../redaction.ts'
import { eventDocument, toJson, type EventDocument } from './event-document.ts'
import { slackMessage } from './slack-message.ts'

/**
 * Turns one event's document (its payload already redacted) into the JSON value a webhook
 * POSTs: what `handlers.webhook.format` may be besides `'json'` and `'slack'`.
 *
 * ```ts
 * // Discord's webhook shape
 * const discord: WebhookFormatter = (event) => ({ content: `${event.name} ${event.id ?? ''}` })
 * ```
 */
export type WebhookFormatter = (document: EventDocument) => unknown

export interface WebhookFormatOptions {
  /** With the slack format, add `blocks` to `{ text }`. */
  readonly slackBlocks?: boolean
}

/**
 * The document a format gets: redacted, and its payload as JSON carries it (BigInt a string,
 * a Map an object, a Set an array, a cycle reported in its place), so a function of one's own
 * can `JSON.stringify` any part of it.
 */
export function webhookDocument(name: string, payload: unknown, redact: Redactor): EventDocument {
  const document = eventDocument(name, payload, redact)
  const json = toJson(document.payload) as string | undefined
  return { ...document, payload: json === undefined ? null : (JSON.parse(json) as unknown) }
}

/** The formatter a `format` setting names: the document as it is (json), Slack's `{ text }`, or the function. */
export function webhookFormatter(format: WebhookFormat, options: WebhookFormatOptions = {}): WebhookFormatter {
  if (typeof format === 'function') return format
  if (format === 'json') return (document) => document
  if (format === 'slack') return (document) => slackMessage(document, { blocks: options.slackBlocks === true })
  throw new UserError(`Webhook format "${String(format)}" is not known: use json, slack or a function (config/events.ts handlers.webhook.format, EVENTS_WEBHOOK_FORMAT).`)
}

/**
 * The URL as error messages and failed jobs name it: without user, password, query and
 * fragment (where tokens are put), and for Slack without its path too, since an
 * incoming-webhook URL's path is its secret (`https://hooks.slack.com/…`).
 */
export function webhookUrlLabel(url: string, format: WebhookFormat): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return '(an invalid URL)'
  }
  if (format === 'slack' || parsed.hostname.endsWith('hooks.slack.com')) return `${parsed.origin}/…`
  const hidden = parsed.search !== '' || parsed.hash !== '' ? '?…' : ''
  return `${parsed.origin}${parsed.pathname}${hidden}`
}
