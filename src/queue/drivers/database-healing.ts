import { isConnectionError, ServiceUnreachableError } from '../../foundation/service-errors.ts'
import type { ConsumeOptions } from '../driver.ts'
import { pause, type ReconnectPolicy, type ReconnectTracker } from '../reconnect.ts'
import type { LeaseKeeper } from './database-leases.ts'
import type { LapseWatch } from './database-reclaim.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/**
 * How the database driver's consumer waits out a lost connection (see DatabaseDriver.consume):
 * a step retried with backoff, and the heartbeat's failures told apart. Kept apart from the
 * driver, whose claim and settle statements are the hot path; these run only once something
 * went wrong.
 */

/** One `consume` call: its options, its stop, and what its loops share. */
export interface Consuming {
  readonly options: ConsumeOptions
  /** Aborted by the caller's signal or by a loop that failed: take no new job. */
  readonly stop: AbortSignal
  /** The connection's outage, shared by the loops and the heartbeat: one warning per outage. */
  readonly tracker: ReconnectTracker
  readonly policy: ReconnectPolicy
  readonly leases: LeaseKeeper
  readonly warn: (message: string) => void
  /** stopWhenEmpty: other workers' reserved rows, and whether their wait was said. */
  readonly lapses: LapseWatch
}

/** What `healing` resolves to when the stop came while it waited. */
export const ABORTED: unique symbol = Symbol('aborted')

/**
 * Runs a database step of a loop, waiting out a lost connection: the first failure of an
 * outage is one warning, then the same step is tried again with capped, jittered backoff
 * (every step is safe to repeat). Before a try after a failure, the leases of this
 * consumer's jobs in hand are renewed, so its own loops never reclaim them. Resolves to
 * ABORTED if the stop comes while it waits (at once, whatever the database does); rejects
 * with a ServiceUnreachableError after `maxDisconnected` seconds, or with any other error.
 */
export async function healing<T>(run: Consuming, step: () => Promise<T>): Promise<T | typeof ABORTED> {
  for (;;) {
    try {
      if (!run.tracker.disconnected) return await step()
      const result = await untilAborted(
        run.leases.beat().then(step),
        run.stop,
      )
      if (result !== ABORTED) run.tracker.succeeded()
      return result
    } catch (error) {
      const decision = run.tracker.failed(error)
      if (!decision.retry) throw error
      if (decision.first) run.warn(outageLine(error, run.policy))
      await pause(decision.delay, run.stop)
      if (run.stop.aborted) return ABORTED
    }
  }
}

/** A failed heartbeat: a bug is a warning; a lost connection may be the first sign of an outage. */
export function heartbeatFailed(run: Consuming, error: unknown): void {
  if (!isConnectionError(error)) {
    run.warn(`Renewing the leases of the jobs in hand failed: ${firstLine(error)}`)
    return
  }
  // The loops may be busy running jobs: the heartbeat is then the first to see an outage.
  if (run.tracker.disconnected) return
  const decision = run.tracker.failed(error)
  if (decision.retry && decision.first) run.warn(outageLine(error, run.policy))
}

/**
 * The LISTEN connection failed: a lost connection is (or starts) an outage, said once with the
 * loops' and the heartbeat's; anything else is a warning of its own. Either way the consumer
 * polls every sleep interval until it listens again.
 */
export function listenFailed(run: Consuming, error: unknown): void {
  if (!isConnectionError(error)) {
    run.warn(`Listening for new jobs (LISTEN) failed: ${firstLine(error)}; polling every sleep interval meanwhile.`)
    return
  }
  if (run.tracker.disconnected) return
  const decision = run.tracker.failed(error)
  if (decision.retry && decision.first) run.warn(outageLine(error, run.policy))
}

/** `Database "pgsql" at 127.0.0.1:5432: connection lost (…): reconnecting, giving up after 60 s without one.` */
function outageLine(error: unknown, policy: ReconnectPolicy): string {
  const limit = policy.maxDisconnected > 0 ? `, giving up after ${policy.maxDisconnected} s without one` : ''
  const what = error instanceof ServiceUnreachableError ? `${error.service} at ${error.address}: connection lost (${firstLine(error.cause)})` : firstLine(error)
  return `${what}: reconnecting${limit}.`
}

/**
 * `promise`, or ABORTED as soon as `signal` aborts (the step is then abandoned: a claim it
 * made lapses and runs again, a write it made is idempotent). Its rejection is never left
 * unhandled.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.resolve(ABORTED)
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

export function firstLine(error: unknown): string {
  const text = errorMessage(error)
  return text.split('\n', 1)[0]!.trim()
}
