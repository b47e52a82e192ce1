import { isConnectionError } from '../foundation/service-errors.ts'

/** How a worker waits out a lost connection (DESIGN.md, "Healing"). */
export interface ReconnectPolicy {
  /** Seconds without a working connection after which the worker gives up (exit 1). 0: never. */
  readonly maxDisconnected: number
  /** First wait, in ms; doubled after each failed try, up to `maxDelay`. */
  readonly baseDelay: number
  /** Longest wait between tries, in ms. */
  readonly maxDelay: number
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = { maxDisconnected: 60, baseDelay: 100, maxDelay: 5_000 }

/** The wait before try number `attempt` (from 1): exponential, capped, with full jitter in its upper half. */
export function reconnectDelay(attempt: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelay, policy.baseDelay * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/** What to do after a failure: wait `delay` ms and try again, or give up. */
export type ReconnectDecision = { readonly retry: true; readonly delay: number; readonly first: boolean } | { readonly retry: false }

/**
 * Tracks one connection's outage: `failed(error)` for each failed try says whether to wait and
 * retry (a connection error within `maxDisconnected`) or give up (any other error, or too long
 * without a connection); `succeeded()` ends the outage. `first` is true for the failure that
 * started an outage, so the caller warns once per outage, not once per try.
 */
export class ReconnectTracker {
  private since: number | null = null
  private attempt = 0

  constructor(
    private readonly policy: ReconnectPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  get disconnected(): boolean {
    return this.since !== null
  }

  /** Milliseconds since the outage began (0 when connected). */
  get outageMs(): number {
    return this.since === null ? 0 : this.now() - this.since
  }

  failed(error: unknown): ReconnectDecision {
    if (!isConnectionError(error)) return { retry: false }
    const first = this.since === null
    if (first) this.since = this.now()
    this.attempt++
    if (this.policy.maxDisconnected > 0 && this.outageMs >= this.policy.maxDisconnected * 1000) return { retry: false }
    return { retry: true, delay: reconnectDelay(this.attempt, this.policy), first }
  }

  succeeded(): void {
    this.since = null
    this.attempt = 0
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
