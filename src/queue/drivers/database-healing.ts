import { isConnectionError, ServiceUnreachableError } from '../../foundation/service-errors.ts'
import type { ConsumeOptions, JobOutcome } from '../driver.ts'
import { pause, reconnectDelay, type ReconnectPolicy, type ReconnectTracker } from '../reconnect.ts'
import type { Claim, LeaseKeeper } from './database-leases.ts'
import type { LapseWatch } from './database-reclaim.ts'

/**
 * How the database driver's consumer waits out a lost connection (see DatabaseDriver.consume):
 * a step retried with backoff, the last outcome written on stop within a grace time, and the
 * heartbeat's failures told apart. Kept apart from the driver, whose claim and settle
 * statements are the hot path; these run only once something went wrong.
 */

/** A processed job whose outcome is not written yet. */
export interface Settlement {
  readonly claim: Claim
  readonly outcome: JobOutcome
}

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
  /** Jobs in hand (running, or done with their outcome not written yet). */
  inHand: number
  /** stopWhenEmpty: other workers' reserved rows, and whether their wait was said. */
  readonly lapses: LapseWatch
}

/** After a stop, how long writing the outcome of the last job may take before it is given up. */
const SETTLE_GRACE_MS = 5_000
/** The same, when the worker is stopping because the database stayed unreachable. */
const SETTLE_GRACE_UNREACHABLE_MS = 1_000
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

/**
 * Writes the outcome of a loop's last job when it stops (`settle` writes it once). A lost
 * connection is tried again for a few seconds, then given up with a warning: the row stays
 * reserved until its lease lapses and runs again then, while the worker stops on time.
 */
export async function settleLast(run: Consuming, last: Settlement, failed: boolean, settle: (last: Settlement) => Promise<void>): Promise<void> {
  const giveUp = AbortSignal.timeout(failed ? SETTLE_GRACE_UNREACHABLE_MS : SETTLE_GRACE_MS)
  let reason: unknown = new Error('timed out')
  for (let attempt = 1; !giveUp.aborted; attempt++) {
    try {
      if ((await untilAborted(settle(last), giveUp)) !== ABORTED) return
    } catch (error) {
      if (!isConnectionError(error) && !failed) throw error
      reason = error
      await pause(reconnectDelay(attempt, run.policy), giveUp)
    }
  }
  run.warn(
    `Could not write the outcome of job ${last.claim.job.id} (${firstLine(reason)}): it stays reserved until its lease lapses, then runs again.`,
  )
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
  const text = error instanceof Error ? error.message : String(error)
  return text.split('\n', 1)[0]!.trim()
}
