import { hostname } from 'node:os'
import { Job, UnrecoverableError, type Worker } from 'bullmq'
import type { Logger } from '../../foundation/logger.ts'
import { isConnectionError } from '../../foundation/service-errors.ts'
import type { ConsumeOptions, DeliveredJob, JobOutcome } from '../driver.ts'
import { DEFAULT_RECONNECT_POLICY, ReconnectTracker } from '../reconnect.ts'
import type { RedisLink } from './bullmq-connection.ts'
import { HeraldBullWorker, quarantine, undecodableReason } from './bullmq-poison.ts'
import { type Held, LockRenewer } from './bullmq-locks.ts'
import { BullmqWakeUp } from './bullmq-wake-up.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/** What a consumer needs from its driver. */
export interface BullmqConsumerContext {
  readonly url: string
  readonly prefix: string
  /** Shared by the consumer's BullMQ Workers; BullMQ requires `maxRetriesPerRequest: null` on it. */
  readonly link: RedisLink
  /** Milliseconds a job's lock lasts unless renewed (renewed every half of it while the job runs). */
  readonly lockDuration: number
  /** Milliseconds between checks for jobs whose worker died. */
  readonly stalledInterval: number
  readonly logger: Logger
  /** Jobs waiting, delayed or active on a queue, whoever holds them. */
  pending(queue: string): Promise<number>
  /**
   * Records a job that cannot be decoded in failed_jobs with its reason; resolves false when it
   * could not be recorded (the job is then kept in BullMQ's failed set rather than deleted).
   */
  quarantine(queue: string, payload: string, reason: Error): Promise<boolean>
}

/**
 * A stopping consumer whose Redis is gone waits this long for it to come back to record the
 * outcomes of the jobs it ran; after that it leaves them active in Redis, and they are
 * delivered again once their locks lapse (at-least-once: such a job runs twice).
 */
const SETTLE_GRACE_MS = 3_000

/**
 * Delivers the jobs of one or more BullMQ queues to Herald's pipeline, with strict queue
 * precedence and exactly `concurrency` jobs in hand.
 *
 * BullMQ's own `Worker.run()` serves one queue, so several Workers could not say "take from
 * `high` before `default`". Instead each queue gets a Worker used only as BullMQ's manual API
 * (fetch, lock renewal, stalled checks), and one loop fetches for every free slot by asking the
 * queues in order without blocking: the first job found is taken. Only when every queue is
 * empty does the loop block, on all the queues' wake-up markers at once (one BZPOPMIN), so a
 * job pushed to any queue is seen at once. Completing a job of the first queue fetches the next
 * one of that queue in the same round trip (nothing can have precedence over it).
 */
export class BullmqConsumer {
  private readonly workers: Worker[]
  private readonly held = new Set<Held>()
  private readonly wakeUp: BullmqWakeUp
  private changed = deferred()
  private tokens = 0
  private fetching: Promise<Held | undefined> | null = null
  private readonly locks: LockRenewer
  /** Jobs inside process(): a stopping consumer always waits for these (each within its timeout). */
  private running = 0
  private readonly outage: ReconnectTracker

  constructor(
    private readonly context: BullmqConsumerContext,
    private readonly options: ConsumeOptions,
  ) {
    const name = `herald@${hostname()}:${process.pid}`
    this.outage = new ReconnectTracker(options.reconnect ?? DEFAULT_RECONNECT_POLICY)
    this.locks = new LockRenewer(this.held, context.lockDuration, context.logger)
    this.workers = options.queues.map((queue) => {
      const worker = new HeraldBullWorker(queue, null, {
        connection: context.link.redis,
        prefix: context.prefix,
        name,
        autorun: false,
        lockDuration: context.lockDuration,
        stalledInterval: context.stalledInterval,
        // Herald decides when a job has been tried too often (DeliveredJob.attempts counts
        // crashed deliveries), so BullMQ must never fail a stalled job on its own.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
      })
      // A lost connection is reported once, by the loop; BullMQ's timers would repeat it.
      worker.on('error', (error) =>
        isConnectionError(error)
          ? context.logger.debug(`BullMQ worker for queue "${queue}": ${errorMessage(error)}`)
          : context.logger.error(`BullMQ worker for queue "${queue}": ${errorMessage(error)}`),
      )
      worker.on('stalled', (id) => context.logger.warn(`Job ${id} on queue "${queue}" stalled (its worker died?): delivering it again.`))
      return worker
    })
    const markers = this.workers.map((worker) => worker.toKey('marker'))
    this.wakeUp = new BullmqWakeUp(context.url, markers, context.logger, options.signal)
  }

  /** Runs until the signal aborts (or, with stopWhenEmpty, the queues are empty), then closes. */
  async run(): Promise<void> {
    const renewal = setInterval(() => void this.locks.renewAll(), Math.max(this.context.lockDuration / 2, 50))
    renewal.unref()
    try {
      for (const worker of this.workers) await worker.startStalledCheckTimer()
      await this.loop()
    } finally {
      clearInterval(renewal)
      await this.shutdown()
    }
  }

  private async loop(): Promise<void> {
    const { signal, concurrency, stopWhenEmpty } = this.options
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve()
      signal.addEventListener('abort', () => resolve(), { once: true })
    })
    const slots = new Set<Promise<void>>()
    let gaveUp: unknown = null
    while (!signal.aborted) {
      const changed = this.changed.promise
      // Checked first: slots waiting on a Redis that went away must not hide the outage.
      try {
        if (!(await this.connected())) continue
      } catch (error) {
        gaveUp = error
        break
      }
      if (slots.size >= Math.max(concurrency, 1)) {
        await Promise.race([changed, aborted, this.context.link.whenDown()])
        continue
      }
      let next: Held | undefined
      try {
        // A fetch caught by an outage waits for Redis (the connection retries forever): stop
        // waiting for it, but keep it, so a job it moves to active later is not orphaned.
        this.fetching ??= this.fetch()
        const fetched = await Promise.race([this.fetching.then((held) => ({ held })), aborted, this.context.link.whenDown()])
        if (fetched === undefined) continue
        this.fetching = null
        next = fetched.held
      } catch (error) {
        this.fetching = null
        if (!isConnectionError(error)) this.context.logger.error(`Fetching a BullMQ job failed: ${errorMessage(error)}; trying again.`)
        await Promise.race([pause(1000), aborted])
        continue
      }
      if (next !== undefined) {
        const slot: Promise<void> = this.work(next).finally(() => {
          slots.delete(slot)
          this.notify()
        })
        slots.add(slot)
        continue
      }
      if (stopWhenEmpty && slots.size === 0 && (await this.empty())) break
      // A slot finishing matters only to stopWhenEmpty; pushes and due delayed jobs wake us.
      await Promise.race([this.wakeUp.wait(this.options.sleep), stopWhenEmpty && slots.size > 0 ? changed : never, aborted])
    }
    await this.drain(slots)
    // A fetch abandoned to an outage may still settle: its job (if any) stays active and is
    // delivered again once its lock lapses; its failure is no longer anyone's concern.
    this.fetching?.catch(() => undefined)
    if (gaveUp !== null) throw gaveUp
  }

  /**
   * True when Redis answers. Otherwise waits a little for it and resolves false (the first
   * failure of an outage is one warning line), or throws the ServiceUnreachableError once Redis
   * has been gone longer than the reconnect policy allows.
   */
  private async connected(): Promise<boolean> {
    const { link, logger } = this.context
    if (link.connected) {
      if (this.outage.disconnected) logger.info(`Redis at ${link.address} answers again after ${Math.round(this.outage.outageMs / 1000)} s: resuming.`)
      this.outage.succeeded()
      return true
    }
    const error = link.unreachable()
    const decision = this.outage.failed(error)
    if (!decision.retry) return Promise.reject(error)
    if (decision.first) {
      const limit = (this.options.reconnect ?? DEFAULT_RECONNECT_POLICY).maxDisconnected
      this.warn(`${error.message}: reconnecting${limit > 0 ? `, giving up after ${limit} s` : ''}.`)
    }
    await link.waitReady(decision.delay, this.options.signal)
    return false
  }

  /**
   * Waits for the jobs in hand: always for those still running (each within its timeout); for
   * recording their outcomes only while Redis answers or SETTLE_GRACE_MS after it went away.
   */
  private async drain(slots: Set<Promise<void>>): Promise<void> {
    let downSince: number | null = null
    while (slots.size > 0) {
      await Promise.race([Promise.all(slots), pause(250)])
      if (slots.size === 0) return
      if (this.running > 0 || this.context.link.connected) {
        downSince = null
        continue
      }
      downSince ??= Date.now()
      if (Date.now() - downSince >= SETTLE_GRACE_MS) {
        this.warn(
          `Stopping without recording the outcome of ${slots.size} job(s): ${this.context.link.unreachable().message}. They stay active in Redis and run again once their locks lapse.`,
        )
        return
      }
    }
  }

  private warn(message: string): void {
    if (this.options.warn !== undefined) this.options.warn(message)
    else this.context.logger.warn(message)
  }

  /** The first job found asking the queues in order, locked to this process. */
  private async fetch(): Promise<Held | undefined> {
    for (const worker of this.workers) {
      const token = `${worker.id}:${this.tokens++}`
      const job = await worker.getNextJob(token, { block: false })
      if (job !== undefined) return this.hold(job, token, worker)
    }
    return undefined
  }

  private hold(job: Job<unknown>, token: string, worker: Worker): Held {
    const held = { job, token, worker }
    this.held.add(held)
    return held
  }

  /** Runs a job and carries out the outcome; then the next job of the first queue, if handed one. */
  private async work(first: Held): Promise<void> {
    let held: Held | undefined = first
    while (held !== undefined) {
      const current: Held = held
      const poison = undecodableReason(current.job)
      if (poison !== undefined) {
        this.held.delete(current)
        await quarantine(current.job, current.token, poison, this.context, (message) => this.warn(message))
        return
      }
      let outcome: JobOutcome
      this.running++
      try {
        outcome = await this.options.process(delivered(current))
      } catch (error) {
        // process() never rejects by contract; if it does, the job is left to stalled-job
        // recovery (its lock is no longer renewed) rather than guessed at.
        this.held.delete(current)
        this.context.logger.error(`Job ${current.job.id} on queue "${current.job.queueName}" was not settled: ${errorMessage(error)}`)
        return
      } finally {
        this.running--
      }
      // No longer renewed: settling removes the lock, and a renewal racing it would report it lost.
      this.held.delete(current)
      try {
        held = await this.settle(current, outcome)
      } catch (error) {
        held = undefined
        if (await this.removeFinished(current, outcome, error)) continue
        // The job is still active in Redis: once its lock lapses it is delivered again.
        this.context.logger.error(
          `Could not record the ${outcome.kind} outcome of job ${current.job.id} on queue "${current.job.queueName}": ${errorMessage(error)}`,
        )
      }
    }
  }

  /**
   * A job that finished while Redis was away longer than its lock lasts has no lock left to
   * settle with, and would be delivered again and run twice. Removing it works only while no
   * other worker holds it (BullMQ refuses to remove a locked job): then it ran once.
   */
  private async removeFinished(held: Held, outcome: JobOutcome, error: unknown): Promise<boolean> {
    if (outcome.kind === 'release' || !(error instanceof Error) || !error.message.startsWith('Missing lock')) return false
    try {
      await held.job.remove()
      this.context.logger.info(`Job ${held.job.id} on queue "${held.job.queueName}" lost its lock while Redis was away: it had finished, so it was removed.`)
      return true
    } catch (removeError) {
      this.context.logger.warn(`Job ${held.job.id} on queue "${held.job.queueName}" lost its lock while Redis was away and may run again: ${errorMessage(removeError)}`)
      return true
    }
  }

  /** Carries out the runner's decision in one BullMQ script each, so no crash window loses the job. */
  private async settle(held: Held, outcome: JobOutcome): Promise<Held | undefined> {
    const { job, token, worker } = held
    switch (outcome.kind) {
      case 'done': {
        // Only the first queue may hand over its next job: nothing has precedence over it.
        const fetchNext = worker === this.workers[0] && !this.options.signal.aborted
        const next = await job.moveToCompleted(null, token, fetchNext)
        return this.handedOver(next, token, worker)
      }
      case 'failed': {
        // Herald already called failed() and wrote failed_jobs: BullMQ must not retry it.
        await job.moveToFailed(new UnrecoverableError(reason(outcome.error)), token, false)
        return undefined
      }
      case 'release': {
        // The updated envelope and the delay are written by the same script that moves the job
        // out of active: a crash before it leaves the job active, and it is delivered again.
        await worker.scripts.moveToDelayed(job.id!, Date.now(), Math.max(0, Math.round(outcome.delay * 1000)), token, {
          skipAttempt: true,
          fieldsToUpdate: { data: JSON.stringify(outcome.payload) },
        })
        return undefined
      }
    }
  }

  /** The job BullMQ fetched while completing the previous one (`[data, id, limitUntil, delayUntil]`). */
  private handedOver(next: void | unknown[], token: string, worker: Worker): Held | undefined {
    if (!Array.isArray(next)) return undefined
    const [data, id, , delayUntil] = next as [Record<string, string> | null, string | undefined, number, number]
    if (typeof delayUntil === 'number') this.wakeUp.due(delayUntil)
    if (data === null || data === undefined || id === undefined) return undefined
    const job = Job.fromJSON(worker, data as never, id) as Job<unknown>
    job.token = token
    return this.hold(job, token, worker)
  }

  /** Every queue has nothing waiting, delayed or active (a dead worker's job is active until recovered). */
  private async empty(): Promise<boolean> {
    try {
      for (const queue of this.options.queues) {
        if ((await this.context.pending(queue)) > 0) return false
      }
      return true
    } catch (error) {
      this.context.logger.error(`Counting BullMQ jobs failed: ${errorMessage(error)}; trying again.`)
      return false
    }
  }

  private notify(): void {
    const changed = this.changed
    this.changed = deferred()
    changed.resolve()
  }

  private async shutdown(): Promise<void> {
    // Closing gracefully sends QUIT on each Worker's connections, which waits forever for a Redis that is gone.
    const force = !this.context.link.connected
    for (const worker of this.workers) {
      try {
        await Promise.race([worker.close(force), pause(3_000)])
      } catch (error) {
        this.context.logger.error(`Closing the BullMQ worker for queue "${worker.name}" failed: ${errorMessage(error)}`)
      }
    }
    await this.wakeUp.close()
  }
}

function delivered({ job }: Held): DeliveredJob {
  const data = job.data
  return {
    id: job.id!,
    queue: job.queueName,
    // Herald stores the envelope text; a job added by plain BullMQ code may carry an object.
    payload: typeof data === 'string' ? data : (JSON.stringify(data) ?? String(data)),
    // BullMQ counts every move to active: releases and deliveries after a crash included.
    attempts: Math.max(job.attemptsStarted, 1),
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

const never = new Promise<never>(() => {})

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}
