import type { DeliveredJob } from '../driver.ts'
import { pause } from '../reconnect.ts'

/** Seconds a reserved job stays ours without a renewal, unless the connection sets `lease`. */
export const DEFAULT_LEASE = 10

/**
 * A claimed job. `reservedAt` is the claim's token: every statement that writes the job
 * (renewal, delete, release) also matches it, so a worker whose lease lapsed and was taken
 * over by another can never write over that worker's reservation.
 */
export interface Claim {
  readonly job: DeliveredJob
  readonly rowId: number | string
  readonly reservedAt: number
  /** Its previous worker's lease had lapsed (that worker died, or lost its connection). */
  readonly reclaimed?: boolean
}

/** What the keeper needs from the driver: one statement for all the claims, and a look-up. */
export interface LeaseStore {
  /** Sets the lease of each claim still ours to `expiresAt`; resolves to how many were. */
  renew(claims: readonly Claim[], expiresAt: number): Promise<number>
  /** The claims of these that are still ours (reserved with their token). */
  owned(claims: readonly Claim[]): Promise<ReadonlySet<Claim>>
}

/**
 * The heartbeat of one consumer: while it holds jobs (running, or done with their outcome not
 * written yet), it renews their leases every third of a lease, in one statement for all of
 * them. A worker that dies stops renewing, so its jobs can be claimed again a lease later; a
 * live worker's job is never claimable, however long it runs.
 */
export class LeaseKeeper {
  private readonly held = new Set<Claim>()
  /** Claims found taken over by another worker (said once). */
  private readonly lost = new WeakSet<Claim>()

  constructor(
    private readonly store: LeaseStore,
    /** Milliseconds a lease lasts. */
    readonly leaseMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  /** Milliseconds between renewals: three tries before a lease lapses. */
  get interval(): number {
    return Math.max(1, Math.floor(this.leaseMs / 3))
  }

  /** When a lease taken or renewed now ends. */
  expiry(now = Date.now()): number {
    return now + this.leaseMs
  }

  hold(claim: Claim): void {
    this.held.add(claim)
  }

  /** Stops renewing a claim: settled, or given up (its lease then lapses, and it runs again). */
  drop(claim: Claim): void {
    this.held.delete(claim)
  }

  /** Renews every lease held; resolves at once when none is. Rejects with the database's error. */
  async beat(): Promise<void> {
    const claims = [...this.held]
    if (claims.length === 0) return
    const renewed = await this.store.renew(claims, this.expiry())
    if (renewed < claims.length) await this.findLost(claims)
  }

  /**
   * Beats until `stop` aborts. A failed beat goes to `failed` (the driver tells a lost
   * connection from a bug) and the next one tries again: a heartbeat never stops a worker.
   */
  async run(stop: AbortSignal, beaten: () => void, failed: (error: unknown) => void): Promise<void> {
    while (!stop.aborted) {
      await pause(this.interval, stop)
      if (stop.aborted || this.held.size === 0) continue
      try {
        await this.beat()
        beaten()
      } catch (error) {
        failed(error)
      }
    }
  }

  /** Says which jobs in hand another worker took over: they are running twice now. */
  private async findLost(claims: readonly Claim[]): Promise<void> {
    const owned = await this.store.owned(claims)
    for (const claim of claims) {
      if (owned.has(claim) || this.lost.has(claim) || !this.held.has(claim)) continue
      this.lost.add(claim)
      this.warn(
        `Job ${claim.job.id} is no longer reserved by this worker (its lease lapsed and another worker took it, or its queue was cleared): its outcome here will not be written.`,
      )
    }
  }
}
