import type { EventDocument } from './event-document.ts'
import { toJson } from './event-document.ts'

/**
 * How many characters the message's text (and a block's text) may have: a section block's
 * text allows 3,000, and Slack advises keeping `text` under 4,000 (it cuts messages past
 * 40,000). A longer payload is cut to fit, and the text says by how much.
 */
export const SLACK_TEXT_LIMIT = 3_000

export interface SlackMessageOptions {
  /** Add `blocks`: the event's name, its payload as a code block, and its ids. Default false. */
  readonly blocks?: boolean
  /** Characters the text may have. Default {@link SLACK_TEXT_LIMIT}. */
  readonly limit?: number
}

/** A Slack incoming-webhook body: `text` always (the notification, and the fallback for blocks). */
export interface SlackMessage {
  readonly text: string
  readonly blocks?: readonly SlackBlock[]
}

export interface SlackBlock {
  readonly type: 'section' | 'context'
  readonly text?: { readonly type: 'mrkdwn'; readonly text: string }
  readonly elements?: ReadonlyArray<{ readonly type: 'mrkdwn'; readonly text: string }>
}

/**
 * A Slack message for one event: `OrderPlaced {"orderId":7,"email":"[REDACTED]"}` on one
 * line, from the document (its payload already redacted). Slack reads `<…>` in text as links
 * and mentions (`<!channel>`, `<https://…|click>`): `&`, `<` and `>` are escaped, so a payload
 * can neither ping a channel nor dress up a link.
 *
 * ```ts
 * slackMessage(eventDocument('OrderPlaced', order, redact))   // { text: 'OrderPlaced {"orderId":7,…}' }
 * ```
 */
export function slackMessage(document: EventDocument, options: SlackMessageOptions = {}): SlackMessage {
  const limit = options.limit ?? SLACK_TEXT_LIMIT
  const name = escapeMrkdwn(oneLine(document.name))
  const payload = escapeMrkdwn(toJson(document.payload ?? null))
  const text = fit(`${name} `, payload, '', limit)
  if (options.blocks !== true) return { text }
  const ids = [document.id && `id ${document.id}`, document.correlation_id && `correlation ${document.correlation_id}`, document.occurred_at]
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: fit('', `*${name}*`, '', limit) } },
      // A payload holding ``` would end the code block early: a zero-width space breaks each run.
      { type: 'section', text: { type: 'mrkdwn', text: fit('```', payload.replace(/``/g, '`\u200b`'), '```', limit) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: fit('', escapeMrkdwn(ids.filter(Boolean).join(' · ')), '', limit) }] },
    ],
  }
}

/** Slack's three control characters, as its docs ask. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Line breaks and other control characters as spaces: the summary is one line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
}

/**
 * `head + body + tail` within `limit` characters: the body is cut when it must be, never
 * inside an escape (`&amp;`) or between the halves of a surrogate pair, and a note says how
 * many characters were left out.
 */
export function fit(head: string, body: string, tail: string, limit: number): string {
  const whole = `${head}${body}${tail}`
  if (whole.length <= limit) return whole
  // The note's length depends on the count it prints: measured with the largest count it can show.
  const noteFor = (left: number) => `… (truncated: ${left} more characters)`
  const room = Math.max(0, limit - head.length - tail.length - noteFor(body.length).length)
  let cut = room
  const code = body.charCodeAt(cut - 1)
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1
  const entity = /&[a-z]{0,3}$/.exec(body.slice(Math.max(0, cut - 4), cut))
  if (entity !== null) cut -= entity[0].length
  return `${head}${body.slice(0, cut)}${tail}${noteFor(body.length - cut)}`.slice(0, Math.max(limit, 0))
}
