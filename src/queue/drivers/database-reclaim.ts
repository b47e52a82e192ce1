/** A reserved row of another worker, as stopWhenEmpty's look-up returns it. */
export interface ReservedRow {
  readonly id: number | string
  readonly lease_expires_at: number | string | null
}

/**
 * stopWhenEmpty's view of jobs reserved by other workers: the lease of each row as first seen.
 * A lease that moved on belongs to a live worker (it renews) and settles its job itself; one
 * that did not may belong to a dead worker, and is waited for until it lapses, when the next
 * claim takes the job. So two stop-when-empty workers never wait for each other for more
 * than a beat. Laravel's stop-when-empty ignores reserved jobs, leaving a dead worker's job
 * behind; the issue asks that it be handled, and said.
 */
export class LapseWatch {
  private readonly watched = new Map<string, number>()
  private said = false

  constructor(private readonly warn: (message: string) => void) {}

  /** Whether a job was reserved by another worker when this consumer looked. */
  wasWatched(id: string): boolean {
    return this.watched.has(id)
  }

  /**
   * Milliseconds to wait for the rows whose lease has not moved since first seen, or null when
   * there are none; at most `interval` (a beat), to see which leases moved on. Says the first
   * wait once.
   */
  wait(rows: readonly ReservedRow[], interval: number, now = Date.now()): number | null {
    const leases: number[] = []
    for (const row of rows) {
      const id = String(row.id)
      const lease = Number(row.lease_expires_at ?? 0)
      const first = this.watched.get(id)
      if (first === undefined) this.watched.set(id, lease)
      else if (lease > first) continue
      leases.push(lease)
    }
    if (leases.length === 0) return null
    const last = Math.max(...leases)
    if (!this.said) {
      this.said = true
      this.warn(`${leases.length} job(s) reserved by another worker: waiting up to ${Math.max(0, Math.ceil((last - now) / 1000))} s for their lease.`)
    }
    // Wake when the first lease lapses, or a beat later to see which leases moved on.
    return Math.min(Math.max(Math.min(...leases) - now + 1, 10), interval)
  }
}
