import { ShouldQueue } from '../contracts.ts'
import type { Dispatcher } from '../dispatcher.ts'
import type { QueuedListenerGateway } from '../dispatch-contracts.ts'
import { Listener } from '../listener.ts'
import type { Redactor } from '../redaction.ts'
import type { RegisteredListener, WildcardPattern } from '../types.ts'
import { isWildcard } from '../wildcard.ts'
import { eventDocument, toJson } from './event-document.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/** The name WebhookListener is registered under, so a queue worker finds it by name. */
export const WEBHOOK_DELIVERY = 'herald.webhook'

/** One POST to one URL: what a WebhookListener job carries. */
export interface WebhookDelivery {
  readonly url: string
  /** The JSON body, `{ id, name, occurred_at, correlation_id, payload }`, made (and redacted) at dispatch. */
  readonly body: string
  readonly tries: number
  /** Seconds before each retry; the last repeats. */
  readonly backoff: readonly number[]
}

function reason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
  return `${errorMessage(error)}${cause}`
}

/**
 * Queued: POSTs one event's JSON to one URL. A network error or a non-2xx answer fails the
 * attempt; the job is retried with the delivery's backoff, and once its tries are spent it
 * lands in failed_jobs with the reason (`queue:failed`, `queue:retry`).
 */
export class WebhookListener extends ShouldQueue(Listener.for(WEBHOOK_DELIVERY)) {
  /** Seconds one POST may take. */
  timeout = 30
  /** Queued once the surrounding transaction commits; a rolled-back change posts nothing. */
  afterCommit = true

  tries(delivery: WebhookDelivery): number {
    return delivery.tries
  }

  backoff(delivery: WebhookDelivery): number[] {
    return [...delivery.backoff]
  }

  async handle(event: unknown): Promise<void> {
    const delivery = event as WebhookDelivery
    let response: Response
    try {
      response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Herald webhook' },
        body: delivery.body,
        signal: this.signal,
      })
    } catch (error) {
      throw new Error(`Webhook POST to ${delivery.url} failed: ${reason(error)}`)
    }
    // Read to the end, so the connection goes back to the pool.
    await response.arrayBuffer()
    if (!response.ok) throw new Error(`Webhook POST to ${delivery.url} answered ${response.status} ${response.statusText}`.trimEnd())
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
}

/**
 * Registers WebhookListener and, for each configured event pattern, a listener that turns the
 * event into one WebhookListener job per URL (EVENTS_WEBHOOK_URLS, EVENTS_WEBHOOK_EVENTS).
 * The body is made here, at dispatch: the id and time are the event's, the payload is
 * redacted before it is stored in the jobs table, and a retry posts the very same bytes. One
 * job per URL, so a failing endpoint's retries do not post again to the ones that answered.
 */
export class WebhookSubscriber {
  private delivery: RegisteredListener | null = null

  constructor(private readonly options: WebhookOptions) {}

  subscribe(events: Dispatcher): void {
    events.listen(WEBHOOK_DELIVERY, WebhookListener)
    this.delivery = events.getListeners(WEBHOOK_DELIVERY).find((registered) => registered.listener === WebhookListener) ?? null
    for (const pattern of this.options.events) {
      if (isWildcard(pattern)) events.listen(pattern as WildcardPattern, (name: string, payload: unknown) => this.forward(name, payload))
      else events.listen(pattern, (payload: unknown) => this.forward(pattern, payload))
    }
  }

  /** Queues the event's delivery to every URL. */
  async forward(name: string, payload: unknown): Promise<void> {
    if (name === WEBHOOK_DELIVERY || this.delivery === null) return
    const body = toJson(eventDocument(name, payload, this.options.redact))
    const { tries, backoff } = this.options
    const queue = this.options.queue()
    await Promise.all(this.options.urls.map((url) => queue.push(this.delivery!, WEBHOOK_DELIVERY, { url, body, tries, backoff } satisfies WebhookDelivery)))
  }
}
