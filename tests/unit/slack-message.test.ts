/**
 * The webhook formats without a network: Slack's `{ text }` (redacted, escaped, one line, cut
 * to its limit), its optional blocks, the json default, a function of one's own, and the
 * labels errors give URLs. Over real HTTP: tests/integration/webhook-formats.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { createRedactor } from 'herald'
import { eventDocument, type EventDocument } from '../../src/events/handlers/event-document.ts'
import { SLACK_TEXT_LIMIT, fit, slackMessage } from '../../src/events/handlers/slack-message.ts'
import { webhookDocument, webhookFormatter, webhookUrlLabel } from '../../src/events/handlers/webhook-format.ts'

const redact = createRedactor(['password', 'api_key', 'card.number'])

function document(name: string, payload: unknown): EventDocument {
  return eventDocument(name, payload, redact)
}

describe('slackMessage', () => {
  it('is one line: the event name and the payload JSON, redacted', () => {
    const message = slackMessage(document('UserSignedUp', { email: 'ada@example.test', password: 'hunter2', apiKey: 'k-123', card: { number: '4242424242424242', brand: 'visa' } }))
    expect(message).toEqual({
      text: 'UserSignedUp {"email":"ada@example.test","password":"[REDACTED]","apiKey":"[REDACTED]","card":{"number":"[REDACTED]","brand":"visa"}}',
    })
    expect(JSON.stringify(message)).not.toMatch(/hunter2|k-123|4242/)
  })

  it('renders BigInt, Map, Set and Date, and redacts inside a Map', () => {
    const payload = { visits: 12345678901234567890n, settings: new Map<string, unknown>([['theme', 'dark'], ['password', 'hunter2']]), tags: new Set(['a', 'b']), at: new Date('2026-12-04T05:00:00.000Z') }
    const { text } = slackMessage(document('settings.changed', payload))
    expect(text).toBe('settings.changed {"visits":"12345678901234567890","settings":{"theme":"dark","password":"[REDACTED]"},"tags":["a","b"],"at":"2026-12-04T05:00:00.000Z"}')
  })

  it('renders a payload that is no object, and one with a cycle, without throwing', () => {
    expect(slackMessage(document('ping', 42n)).text).toBe('ping "42"')
    expect(slackMessage(document('ping', undefined)).text).toBe('ping null')
    const cyclic: Record<string, unknown> = { id: 1 }
    cyclic.self = cyclic
    expect(slackMessage(document('loop', cyclic)).text).toMatch(/^loop \{"unserializable":".*circular/i)
  })

  it('escapes &, < and >, so a payload can neither mention a channel nor dress up a link', () => {
    const { text } = slackMessage(document('comment.posted', { body: '<!channel> see <https://evil.test|your bank> & pay' }))
    expect(text).toBe('comment.posted {"body":"&lt;!channel&gt; see &lt;https://evil.test|your bank&gt; &amp; pay"}')
    expect(text).not.toContain('<')
  })

  it('keeps a string event name with line breaks on one line', () => {
    expect(slackMessage(document('a\nb\u2028c', {})).text).toBe('a b c {}')
  })

  it(`cuts a huge payload to ${SLACK_TEXT_LIMIT} characters and says how much was left out`, () => {
    const { text } = slackMessage(document('import.finished', { rows: 'x'.repeat(100_000), password: 'hunter2' }))
    expect(text.length).toBeLessThanOrEqual(SLACK_TEXT_LIMIT)
    expect(text.length).toBeGreaterThan(SLACK_TEXT_LIMIT - 10)
    expect(text.startsWith('import.finished {"rows":"xxx')).toBe(true)
    const left = Number(/… \(truncated: (\d+) more characters\)$/.exec(text)![1])
    const whole = 'import.finished '.length + JSON.stringify({ rows: 'x'.repeat(100_000), password: '[REDACTED]' }).length
    expect(text.length - `… (truncated: ${left} more characters)`.length + left).toBe(whole)
  })

  it('never cuts inside an escape or a surrogate pair', () => {
    const note = (left: number) => `… (truncated: ${left} more characters)`
    // Room for 6 characters of the body: "ab&amp;…" would be cut after "ab&amp".
    const escaped = fit('', `ab&amp;${'c'.repeat(100)}`, '', 6 + note(107).length)
    expect(escaped).toBe(`ab${note(105)}`)
    // "abcde" and the first half of the emoji's pair: the cut goes before the emoji.
    const emoji = fit('', `abcde\u{1F600}${'f'.repeat(100)}`, '', 6 + note(107).length)
    expect(emoji).toBe(`abcde${note(102)}`)
    expect(fit('>', 'short', '<', 100)).toBe('>short<')
  })

  it('adds blocks on request: the name, the payload as a code block, the ids, each within the limit', () => {
    const message = slackMessage({ id: '01JD3X', name: 'OrderPlaced', occurred_at: '2026-12-04T05:00:00.000Z', correlation_id: '01JD3Y', payload: { note: 'a ``` b', password: '[REDACTED]' } }, { blocks: true })
    expect(message.text).toBe('OrderPlaced {"note":"a ``` b","password":"[REDACTED]"}')
    expect(message.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*OrderPlaced*' } },
      { type: 'section', text: { type: 'mrkdwn', text: '```{"note":"a `\u200b`` b","password":"[REDACTED]"}```' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'id 01JD3X · correlation 01JD3Y · 2026-12-04T05:00:00.000Z' }] },
    ])
    const huge = slackMessage(document('big', { rows: '<'.repeat(10_000) }), { blocks: true })
    const section = huge.blocks![1]!.text!.text
    expect(section.length).toBeLessThanOrEqual(SLACK_TEXT_LIMIT)
    expect(section).toMatch(/^```\{"rows":"(&lt;)+```… \(truncated: \d+ more characters\)$/)
  })
})

describe('webhookFormatter', () => {
  const event = document('OrderPlaced', { orderId: 7, password: 'hunter2' })

  it('posts the document as it is by default (json), Slack text for slack, and runs a function as given', () => {
    expect(webhookFormatter('json')(event)).toBe(event)
    expect(webhookFormatter('slack')(event)).toEqual({ text: 'OrderPlaced {"orderId":7,"password":"[REDACTED]"}' })
    expect(webhookFormatter('slack', { slackBlocks: true })(event)).toHaveProperty('blocks')
    const discord = webhookFormatter((doc) => ({ content: `${doc.name} ${JSON.stringify(doc.payload)}` }))
    expect(discord(event)).toEqual({ content: 'OrderPlaced {"orderId":7,"password":"[REDACTED]"}' })
  })

  it('gives a format the payload as JSON carries it: redacted, BigInt a string, a Map an object, a cycle reported', () => {
    const settings = new Map<string, unknown>([['password', 'hunter2'], ['visits', 3n]])
    expect(webhookDocument('settings.changed', { settings, tags: new Set([1]) }, redact).payload).toEqual({ settings: { password: '[REDACTED]', visits: '3' }, tags: [1] })
    const cyclic: Record<string, unknown> = { password: 'hunter2' }
    cyclic.self = cyclic
    const looped = webhookDocument('loop', cyclic, redact)
    expect(looped.name).toBe('loop')
    expect(looped.payload).toEqual({ unserializable: expect.stringMatching(/circular/i) })
    expect(webhookDocument('fn', () => 1, redact).payload).toBeNull()
    expect(JSON.stringify(webhookFormatter((doc) => doc)(webhookDocument('n', { big: 1n }, redact)))).toContain('"big":"1"')
  })

  it('names the formats it knows when given another', () => {
    expect(() => webhookFormatter('teams' as 'json')).toThrow('Webhook format "teams" is not known: use json, slack or a function')
  })
})

describe('webhookUrlLabel', () => {
  it('leaves out what holds tokens: the query, and all of a Slack path', () => {
    expect(webhookUrlLabel('https://hooks.example.com/herald', 'json')).toBe('https://hooks.example.com/herald')
    expect(webhookUrlLabel('https://hooks.example.com/in?token=s3cret#x', 'json')).toBe('https://hooks.example.com/in?…')
    expect(webhookUrlLabel('https://hooks.slack.com/services/T0/B0/XXXX', 'json')).toBe('https://hooks.slack.com/…')
    expect(webhookUrlLabel('http://127.0.0.1:9/services/T0/B0/XXXX', 'slack')).toBe('http://127.0.0.1:9/…')
    expect(webhookUrlLabel('not a url s3cret', 'json')).toBe('(an invalid URL)')
  })
})
