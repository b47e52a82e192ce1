import type { ConsumeOptions } from '../driver.ts'
import type { SettleBatch } from './database-batch-statements.ts'
import { ABORTED, firstLine, healing, type Consuming } from './database-healing.ts'
import type { Claim } from './database-leases.ts'
import type { ReservedRow } from './database-reclaim.ts'
import { Settler } from './database-settler.ts'
import type { Sleepers } from './database-sleepers.ts'

/** What the consumer needs from the driver: the statements, one door each. */
export interface BatchStore {
  /** Claims up to `limit` available jobs of one queue, oldest first. */
  claim(queue: string, limit: number): Promise<Claim[]>
  flush(batch: SettleBatch): Promise<void>
  /** Puts claims that never started back, available at once. */
  giveBack(claims: readonly Claim[]): Promise<void>
  /** Milliseconds until a job of these queues could be claimed, at most `capMs`. */
  untilNextDue(queues: readonly string[], capMs: number): Promise<number>
  /** Rows of these queues that other workers hold (stopWhenEmpty). */
  reserved(queues: readonly string[]): Promise<ReservedRow[]>
}

/** How far ahead a worker reserves: about this much work at its recent rate. */
const AHEAD_MS = 50
/** The rate is measured over windows of at least this long. */
const RATE_WINDOW_MS = 100
/** After a stop, how long writing outcomes and giving back jobs may take before it is given up. */
const GRACE_MS = 5_000
/** The same, when the worker is stopping because the database stayed unreachable. */
const GRACE_UNREACHABLE_MS = 1_000

/** Wakes whoever waits for the consumer's state to change: a job taken, finished, or claimed. */
class Changed {
  private readonly waiting = new Set<() => void>()

  wait(stop: AbortSignal): Promise<void> {
    if (stop.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        stop.removeEventListener('abort', done)
        this.waiting.delete(done)
        resolve()
      }
      stop.addEventListener('abort', done, { once: true })
      this.waiting.add(done)
    })
  }

  notify(): void {
    for (const done of [...this.waiting]) done()
  }
}

/**
 * One `consume` call of the database queue: a fetcher that claims jobs in batches, `concurrency`
 * slots that run them, and a Settler that writes their outcomes in batches.
 *
 * The fetcher keeps enough claimed jobs for the free slots plus a look-ahead of about AHEAD_MS
 * of work at the recent completion rate, at most `prefetch`: a drain of fast jobs costs a
 * claim per hundred jobs, while a worker of slow jobs reserves only what its slots can start
 * (another worker takes the rest). Jobs claimed and not started when the worker stops are
 * given back at once; if it dies, their lease lapses and they run again, their try unused.
 *
 * Within one queue list, earlier queues come first at each claim; a job pushed on an earlier
 * queue waits for the look-ahead already claimed (at most AHEAD_MS of work).
 */
export class BatchConsumer {
  private readonly buffer: Claim[] = []
  private running = 0
  private readonly changed = new Changed()
  private fetchEnded = false
  private readonly errors: unknown[] = []
  private readonly settler: Settler
  private readonly giveUp = new AbortController()
  private completed = 0
  private windowStart = performance.now()
  /** Completions per second, smoothed. */
  private rate = 0

  constructor(
    private readonly store: BatchStore,
    private readonly run: Consuming,
    private readonly sleepers: Sleepers,
    private readonly prefetch: number,
    private readonly stopAll: () => void,
  ) {
    const settling: Consuming = { ...run, stop: this.giveUp.signal }
    this.settler = new Settler(
      (batch) => store.flush(batch),
      (write) => healing(settling, write),
      (claims) => {
        for (const claim of claims) run.leases.drop(claim)
        // A released job may be due at once, and a stopWhenEmpty fetcher waits for jobs in hand.
        this.sleepers.wake()
      },
      (error) => this.fail(error),
      run.warn,
    )
  }

  /** Resolves when stopped (or, with stopWhenEmpty, when done); rejects with what stopped it. */
  async consume(): Promise<unknown[]> {
    const options = this.run.options
    const onStop = () => {
      const grace = this.errors.length > 0 ? GRACE_UNREACHABLE_MS : GRACE_MS
      setTimeout(() => this.giveUp.abort(), grace).unref()
      this.changed.notify()
    }
    this.run.stop.addEventListener('abort', onStop, { once: true })
    if (this.run.stop.aborted) onStop()
    const fetching = this.fetch()
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.fetchEnded = true
        this.changed.notify()
      })
    const slots = Array.from({ length: Math.max(1, options.concurrency) }, () => this.slot().catch((error: unknown) => this.fail(error)))
    await fetching
    await Promise.all(slots)
    await this.returnUnstarted()
    await this.settler.drain()
    this.run.stop.removeEventListener('abort', onStop)
    return this.errors
  }

  private fail(error: unknown): void {
    this.errors.push(error)
    this.stopAll()
    this.sleepers.wake()
    this.changed.notify()
  }

  /** Jobs claimed, running, or with their outcome not written: stopWhenEmpty waits for them. */
  private get inHand(): number {
    return this.buffer.length + this.running + this.settler.pending
  }

  private async fetch(): Promise<void> {
    const { options, stop } = this.run
    const cap = Math.max(0, options.sleep * 1000)
    while (!stop.aborted) {
      const want = this.wanted()
      if (want === 0) {
        await this.changed.wait(stop)
        continue
      }
      const wakes = this.sleepers.wakes
      const claims = await healing(this.run, () => this.claim(want))
      if (claims === ABORTED) break
      if (claims.length > 0) {
        for (const claim of claims) this.run.leases.hold(claim)
        this.buffer.push(...claims)
        this.changed.notify()
        continue
      }
      if (options.stopWhenEmpty) {
        // An outcome written while the claim ran (a release) may have been invisible to it:
        // only a claim that began after the last settled job says "empty".
        if (this.inHand > 0 || this.sleepers.wakes !== wakes) {
          // A settled job wakes us (a release may be due at once).
          if (this.sleepers.wakes === wakes) await this.sleepers.sleep(cap, stop)
          continue
        }
        const wait = await healing(this.run, () => this.untilLapsed())
        if (wait === ABORTED) break
        if (wait === null) return
        await this.sleepers.sleep(wait, stop)
        continue
      }
      const wait = await healing(this.run, () => this.store.untilNextDue(options.queues, cap))
      if (wait === ABORTED) break
      // A push (in this process, or a NOTIFY) since this poll began would have woken us.
      if (this.sleepers.wakes !== wakes) continue
      await this.sleepers.sleep(wait, stop)
    }
  }

  /** Claims from the first queue that has jobs. */
  private async claim(limit: number): Promise<Claim[]> {
    for (const queue of this.run.options.queues) {
      const claims = await this.store.claim(queue, limit)
      if (claims.length > 0) return claims
    }
    return []
  }

  /**
   * How many jobs to claim now: what the free slots and the look-ahead lack, once that is a
   * quarter of the look-ahead or more (a claim is in flight while the buffer still feeds the
   * slots, and its size follows the rate times its own round trip); 0 while the buffer covers
   * the free slots and the rest is too little to be worth a claim.
   */
  private wanted(): number {
    const free = Math.max(0, Math.max(1, this.run.options.concurrency) - this.running)
    const ahead = Math.min(this.prefetch, Math.floor((this.rate * AHEAD_MS) / 1000))
    const missing = Math.max(0, free + ahead - this.buffer.length)
    if (this.buffer.length >= free && missing < Math.max(1, Math.ceil(ahead / 4))) return 0
    return missing
  }

  private async slot(): Promise<void> {
    for (;;) {
      const claim = await this.next()
      if (claim === null) return
      this.running++
      let outcome
      try {
        if (claim.reclaimed === true) {
          if (this.run.lapses.wasWatched(claim.job.id)) {
            this.run.warn(`Reclaimed job ${claim.job.id} (attempt ${claim.job.attempts}): the worker holding it stopped renewing its lease.`)
          }
          await this.settler.startNow(claim)
        } else {
          this.settler.start(claim)
        }
        outcome = await this.run.options.process(claim.job)
      } catch (error) {
        // `process` never rejects by contract; if it does, the row stays reserved until its
        // lease lapses, and is delivered again.
        this.running--
        this.run.leases.drop(claim)
        throw error
      }
      this.running--
      this.settler.settle(claim, outcome)
      this.measure()
      this.changed.notify()
    }
  }

  /** The next claimed job, or null once stopping (or the fetcher ended and none is left). */
  private async next(): Promise<Claim | null> {
    for (;;) {
      if (this.run.stop.aborted) return null
      const claim = this.buffer.shift()
      if (claim !== undefined) {
        this.changed.notify()
        return claim
      }
      if (this.fetchEnded) return null
      await this.changed.wait(this.run.stop)
    }
  }

  private measure(): void {
    this.completed++
    const now = performance.now()
    const elapsed = now - this.windowStart
    if (elapsed < RATE_WINDOW_MS) return
    const sample = (this.completed * 1000) / elapsed
    this.rate = this.rate === 0 ? sample : (this.rate + sample) / 2
    this.completed = 0
    this.windowStart = now
  }

  /** On stop: the jobs claimed ahead and never started go back, available at once. */
  private async returnUnstarted(): Promise<void> {
    const left = this.buffer.splice(0)
    if (left.length === 0) return
    const giving: Consuming = { ...this.run, stop: this.giveUp.signal }
    try {
      const result = await healing(giving, () => this.store.giveBack(left))
      if (result === ABORTED) this.run.warn(`Could not give back ${left.length} job(s) claimed ahead: they run again once their lease lapses.`)
    } catch (error) {
      this.run.warn(`Could not give back ${left.length} job(s) claimed ahead (${firstLine(error)}): they run again once their lease lapses.`)
    } finally {
      for (const claim of left) this.run.leases.drop(claim)
    }
  }

  /** stopWhenEmpty: how long to wait for other workers' jobs that may be a dead worker's (LapseWatch). */
  private async untilLapsed(): Promise<number | null> {
    const rows = await this.store.reserved(this.run.options.queues)
    return this.run.lapses.wait(rows, this.run.leases.interval)
  }
}
