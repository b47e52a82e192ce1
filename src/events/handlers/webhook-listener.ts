import { ShouldQueue } from '../contracts.ts'
import type { Dispatcher } from '../dispatcher.ts'
import type { QueuedListenerGateway } from '../dispatch-contracts.ts'
import { Listener } from '../listener.ts'
import type { Redactor } from '../redaction.ts'
import type { RegisteredListener, WildcardPattern } from '../types.ts'
import { isWildcard } from '../wildcard.ts'
import { toJson } from './event-document.ts'
import { webhookDocument, webhookFormatter, webhookUrlLabel, type WebhookFormatter } from './webhook-format.ts'
import { postWebhook } from './webhook-post.ts'
import type { WebhookFormat } from '../../foundation/events-config.ts'
import { UserError } from '../../foundation/errors.ts'

/** The name WebhookListener is registered under, so a queue worker finds it by name. */
export const WEBHOOK_DELIVERY = 'herald.webhook'

/** Seconds one POST may take when nothing says otherwise (deliveries queued before the setting existed). */
const DEFAULT_TIMEOUT = 10

/** One POST to one URL: what a WebhookListener job carries. */
export interface WebhookDelivery {
  readonly url: string
  /** The JSON body (the format's, from the redacted document), made at dispatch. */
  readonly body: string
  readonly tries: number
  /** Seconds before each retry; the last repeats. */
  readonly backoff: readonly number[]
  /** Seconds one POST may take, answer included. */
  readonly timeout?: number
  /** The URL as errors name it, without the parts that hold tokens. */
  readonly label?: string
}

/**
 * Queued: POSTs one event's JSON to one URL. A network error, a non-2xx answer (a redirect
 * included: they are not followed) or no answer within the delivery's timeout fails the
 * attempt; the job is retried with the delivery's backoff, and once its tries are spent it
 * lands in failed_jobs with the reason (`queue:failed`, `queue:retry`).
 */
export class WebhookListener extends ShouldQueue(Listener.for(WEBHOOK_DELIVERY)) {
  /** Queued once the surrounding transaction commits; a rolled-back change posts nothing. */
  afterCommit = true

  tries(delivery: WebhookDelivery): number {
    return delivery.tries
  }

  backoff(delivery: WebhookDelivery): number[] {
    return [...delivery.backoff]
  }

  /** The job's own limit, a little past the POST's, which fails first with the clearer reason. */
  timeout(delivery: WebhookDelivery): number {
    return (delivery.timeout ?? DEFAULT_TIMEOUT) + 5
  }

  async handle(event: unknown): Promise<void> {
    const delivery = event as WebhookDelivery
    await postWebhook({
      url: delivery.url,
      label: delivery.label ?? webhookUrlLabel(delivery.url, 'json'),
      body: delivery.body,
      timeout: delivery.timeout ?? DEFAULT_TIMEOUT,
      signal: this.signal,
    })
  }
}

export interface WebhookOptions {
  readonly urls: readonly string[]
  /** Event names and wildcard patterns to post; `['*']` for every event. */
  readonly events: readonly string[]
  readonly tries: number
  readonly backoff: readonly number[]
  readonly redact: Redactor
  /** The queue the deliveries go to (the application's queue manager). */
  readonly queue: () => QueuedListenerGateway
  /** The body: `'json'` (the default), `'slack'`, or a function of the redacted document. */
  readonly format?: WebhookFormat
  /** With the slack format, add `blocks`. */
  readonly slackBlocks?: boolean
  /** Seconds one POST may take. Default 10. */
  readonly timeout?: number
}

/**
 * Registers WebhookListener and, for each configured event pattern, a listener that turns the
 * event into one WebhookListener job per URL (EVENTS_WEBHOOK_URLS, EVENTS_WEBHOOK_EVENTS).
 * The body is made here, at dispatch, by the format (EVENTS_WEBHOOK_FORMAT) from the
 * redacted document: the id and time are the event's, nothing unredacted reaches the jobs
 * table, and a retry posts the very same bytes. One job per URL, so a failing endpoint's
 * retries do not post again to the ones that answered. Several subscribers (a JSON audit
 * feed and a Slack channel) share the one WebhookListener.
 *
 * ```ts
 * events.subscribe(new WebhookSubscriber({ urls: [slackUrl], events: ['Order*'], tries: 3, backoff: [5], redact, queue, format: 'slack' }))
 * ```
 */
export class WebhookSubscriber {
  private delivery: RegisteredListener | null = null
  private readonly format: WebhookFormatter
  private readonly timeout: number
  private readonly labels: ReadonlyMap<string, string>

  constructor(private readonly options: WebhookOptions) {
    const format = options.format ?? 'json'
    this.format = webhookFormatter(format, { slackBlocks: options.slackBlocks })
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT
    if (!(this.timeout > 0)) throw new UserError(`The webhook timeout must be a positive number of seconds, got ${this.timeout} (EVENTS_WEBHOOK_TIMEOUT).`)
    this.labels = new Map(options.urls.map((url) => [url, checkedLabel(url, format)]))
  }

  subscribe(events: Dispatcher): void {
    const registered = () => events.getListeners(WEBHOOK_DELIVERY).find((listener) => listener.listener === WebhookListener)
    if (registered() === undefined) events.listen(WEBHOOK_DELIVERY, WebhookListener)
    this.delivery = registered() ?? null
    for (const pattern of this.options.events) {
      if (isWildcard(pattern)) events.listen(pattern as WildcardPattern, (name: string, payload: unknown) => this.forward(name, payload))
      else events.listen(pattern, (payload: unknown) => this.forward(pattern, payload))
    }
  }

  /** Queues the event's delivery to every URL. */
  async forward(name: string, payload: unknown): Promise<void> {
    if (name === WEBHOOK_DELIVERY || this.delivery === null) return
    const body = toJson(this.format(webhookDocument(name, payload, this.options.redact)))
    const { tries, backoff } = this.options
    const queue = this.options.queue()
    await Promise.all(
      this.options.urls.map((url) =>
        queue.push(this.delivery!, WEBHOOK_DELIVERY, { url, body, tries, backoff, timeout: this.timeout, label: this.labels.get(url)! } satisfies WebhookDelivery),
      ),
    )
  }
}

/** The URL's label, once it is known to be an http(s) URL: anything else is a setting to fix. */
function checkedLabel(url: string, format: WebhookFormat): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // Not echoed: a mistyped URL may still hold its token.
    throw new UserError('A webhook URL is not a URL: check EVENTS_WEBHOOK_URLS (comma-separated, each starting with https://).')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UserError(`Webhook URLs must be http or https, not ${parsed.protocol} (EVENTS_WEBHOOK_URLS).`)
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new UserError(`Webhook URL ${webhookUrlLabel(url, format)} holds a user or password, which fetch refuses: put the credential in the path or query (EVENTS_WEBHOOK_URLS).`)
  }
  return webhookUrlLabel(url, format)
}
