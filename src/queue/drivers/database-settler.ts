import type { JobOutcome } from '../driver.ts'
import type { Release, SettleBatch } from './database-batch-statements.ts'
import type { ABORTED } from './database-healing.ts'
import type { Claim } from './database-leases.ts'

/** Most claims one flush writes: a statement of bounded size, however far the worker got ahead. */
const MAX_BATCH = 500
/**
 * How long a start mark may wait for a flush to ride along with. A mark only matters if the
 * worker dies while the job runs; a job that finishes sooner is deleted and needs none.
 */
const MARK_DELAY_MS = 10

/** Runs a write, waiting out a lost connection; ABORTED when the worker gave up on it. */
export type Step = (write: () => Promise<void>) => Promise<void | typeof ABORTED>

/**
 * Writes the outcomes of a consumer's jobs in batches, as a group commit does: a flush starts
 * as soon as there is something to write and none is running, and whatever arrives while one
 * runs goes in the next. Under load a flush carries many jobs (one DELETE for all of them);
 * when idle a job is written at once, so nothing waits on a timer.
 *
 * At-least-once holds: a job stays reserved (its lease renewed) until the flush that settles
 * it has committed, so a crash before then delivers it again.
 *
 * It also counts attempts: a claim does not, so jobs a worker reserved ahead and never started
 * go back without using up a try. A job that starts is marked (`attempts + 1`) by the next
 * flush, at most MARK_DELAY_MS later, unless it is settled first; a job reclaimed from a dead
 * worker is marked before it starts (`startNow`), so a job that kills its worker is counted.
 */
export class Settler {
  private deleted: Claim[] = []
  private released: Release[] = []
  private readonly started = new Set<Claim>()
  private readonly marking = new Map<Claim, () => void>()
  private flushing: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private readonly idle = new Set<() => void>()
  /** Set when a flush gave up (the worker is stopping): nothing more is written. */
  private abandoned = false

  constructor(
    private readonly write: (batch: SettleBatch) => Promise<void>,
    private readonly step: Step,
    /** Claims whose outcome is written (or given up): drop their leases. */
    private readonly settled: (claims: readonly Claim[]) => void,
    /** A write failed for good (not a lost connection waited out): the consumer stops. */
    private readonly fatal: (error: unknown) => void,
    private readonly warn: (message: string) => void,
  ) {}

  /** Outcomes being written now. */
  private writing = 0

  /** Outcomes not written yet, including those of the flush in flight. */
  get pending(): number {
    return this.queued + this.writing
  }

  private get queued(): number {
    return this.deleted.length + this.released.length
  }

  /** A job started: count its attempt with the next flush. */
  start(claim: Claim): void {
    this.started.add(claim)
    if (this.flushing === null && this.timer === null) {
      this.timer = setTimeout(() => this.kick(true), MARK_DELAY_MS)
      this.timer.unref()
    }
  }

  /** A reclaimed job starts: resolves once its attempt is written (or the write gave up). */
  startNow(claim: Claim): Promise<void> {
    this.started.add(claim)
    const written = new Promise<void>((resolve) => this.marking.set(claim, resolve))
    this.kick()
    return written
  }

  /** A job finished: delete it, or put it back with its new payload. */
  settle(claim: Claim, outcome: JobOutcome): void {
    this.started.delete(claim)
    if (outcome.kind === 'release') {
      this.released.push({ claim, payload: outcome.payload, availableAt: Date.now() + Math.max(0, Math.round(outcome.delay * 1000)) })
    } else {
      this.deleted.push(claim)
    }
    this.kick()
  }

  /** Resolves once everything handed in is written, or given up. */
  drain(): Promise<void> {
    this.kick()
    if (this.flushing === null) return Promise.resolve()
    return new Promise((resolve) => this.idle.add(resolve))
  }

  /** Starts a flush unless one runs; `marks`: write start marks even with no outcome to go with them. */
  private kick(marks = false): void {
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.flushing !== null) return
    if (this.queued === 0 && this.marking.size === 0 && !(marks && this.started.size > 0)) return
    this.flushing = this.loop(marks).finally(() => {
      this.flushing = null
      for (const resolve of [...this.idle]) resolve()
      this.idle.clear()
      if (this.abandoned) return
      // What arrived after the loop's last look (its kick found this flush still running).
      if (this.queued > 0 || this.marking.size > 0) this.kick()
      // A mark that arrived during the last flush rides with the next one, or a timer.
      else if (this.started.size > 0) this.start([...this.started][0]!)
    })
  }

  private async loop(marks: boolean): Promise<void> {
    while (!this.abandoned && (this.queued > 0 || this.marking.size > 0 || (marks && this.started.size > 0))) {
      marks = false
      await this.flushOnce()
    }
  }

  /** Writes one batch: outcomes, and the start marks so far (they ride along). */
  private async flushOnce(): Promise<void> {
    const deleted = this.deleted.splice(0, MAX_BATCH)
    const released = this.released.splice(0, Math.max(0, MAX_BATCH - deleted.length))
    const started = [...this.started].slice(0, MAX_BATCH)
    for (const claim of started) this.started.delete(claim)
    const batch: SettleBatch = { deleted, released, started }
    const outcomes = [...deleted, ...released.map((release) => release.claim)]
    let result: void | typeof ABORTED
    this.writing = outcomes.length
    try {
      result = await this.step(() => this.write(batch))
    } catch (error) {
      this.writing = 0
      this.abandon(outcomes, started)
      this.fatal(error)
      return
    }
    this.writing = 0
    if (typeof result === 'symbol') {
      this.abandon(outcomes, started)
      return
    }
    this.settled(outcomes)
    this.resolveMarks(started)
  }

  /** The worker stops without writing these: they stay reserved until their lease lapses. */
  private abandon(outcomes: readonly Claim[], started: readonly Claim[]): void {
    this.abandoned = true
    const left = [...outcomes, ...this.deleted.splice(0), ...this.released.splice(0).map((release) => release.claim)]
    if (left.length > 0) {
      this.warn(`Could not write the outcome of ${left.length} job(s): they stay reserved until their lease lapses, then run again.`)
      this.settled(left)
    }
    this.resolveMarks([...started, ...this.started])
    this.started.clear()
  }

  private resolveMarks(claims: readonly Claim[]): void {
    for (const claim of claims) {
      const resolve = this.marking.get(claim)
      if (resolve === undefined) continue
      this.marking.delete(claim)
      resolve()
    }
  }
}
