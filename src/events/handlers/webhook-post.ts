import { errorMessage } from '../../foundation/error-message.ts'

/** How much of an answer is read: enough for an error's text, never a flood into memory. */
const ANSWER_LIMIT = 64 * 1024
/** How much of a failing answer's text its error quotes (Slack says `invalid_payload`, `no_service`). */
const QUOTE_LIMIT = 200

export interface WebhookPost {
  readonly url: string
  /** The URL as errors name it (see webhookUrlLabel). */
  readonly label: string
  readonly body: string
  /** Seconds the POST may take, answer included. */
  readonly timeout: number
  /** The job's signal: its own timeout, and the worker's shutdown. */
  readonly signal?: AbortSignal
}

/**
 * One POST, which resolves on a 2xx answer and otherwise rejects with an error that names
 * the URL (its label) and what went wrong. Redirects are not followed: a 307 would post the
 * event again to wherever it points, which is the endpoint's to decide, not a stranger's.
 */
export async function postWebhook(post: WebhookPost): Promise<void> {
  const deadline = AbortSignal.timeout(post.timeout * 1000)
  const signal = post.signal === undefined ? deadline : AbortSignal.any([post.signal, deadline])
  const failed = (what: string) => new Error(`Webhook POST to ${post.label} ${what}`)
  let response: Response
  let answer: string
  try {
    response = await fetch(post.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Herald webhook' },
      body: post.body,
      redirect: 'manual',
      signal,
    })
    answer = await readAnswer(response)
  } catch (error) {
    if (deadline.aborted) throw failed(`timed out after ${post.timeout} s (handlers.webhook.timeout, EVENTS_WEBHOOK_TIMEOUT)`)
    // The URL may carry a token its label leaves out: so must the reason.
    throw failed(`failed: ${reason(error).split(post.url).join(post.label)}`)
  }
  if (response.ok) return
  const status = `answered ${response.status} ${response.statusText}`.trimEnd()
  if (response.status >= 300 && response.status < 400) {
    throw failed(`${status}: redirects are not followed${redirectTarget(response, post.url)}; configure the URL it points to`)
  }
  const quoted = quote(answer)
  throw failed(quoted === '' ? status : `${status}: ${quoted}`)
}

/** The answer's text, up to ANSWER_LIMIT bytes; the rest is not read (the connection is dropped). */
async function readAnswer(response: Response): Promise<string> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < ANSWER_LIMIT) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.byteLength
    }
  } finally {
    if (size >= ANSWER_LIMIT) await reader.cancel().catch(() => undefined)
    reader.releaseLock()
  }
  return Buffer.concat(chunks).subarray(0, ANSWER_LIMIT).toString('utf8')
}

/** One line of the answer, for the error: control characters out, at most QUOTE_LIMIT characters. */
function quote(answer: string): string {
  const line = answer.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  return line.length > QUOTE_LIMIT ? `${line.slice(0, QUOTE_LIMIT)}…` : line
}

/** Where a redirect points, by origin only (its path may be as private as ours). */
function redirectTarget(response: Response, from: string): string {
  const location = response.headers.get('location')
  if (location === null) return ''
  try {
    return ` (to ${new URL(location, from).origin})`
  } catch {
    return ''
  }
}

function reason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
  return `${errorMessage(error)}${cause}`
}
