import type { JobPushOptions } from '../queue/queue-manager.ts'

/** A job as a pending dispatch sees it (a Job instance). */
export interface QueueableJob {
  handle(): unknown
}

/** What a pending dispatch hands its job to: the application's jobs dispatcher. */
export interface JobDispatchTarget {
  /** Queues the job where `where` says (over its own options); resolves to its id. */
  dispatch(job: QueueableJob, where: JobPushOptions): Promise<string>
  /** Runs the job now, in this process. */
  dispatchSync(job: QueueableJob): Promise<unknown>
  /** Runs the job in this process after the HTTP response is sent (now, outside a request). */
  dispatchAfterResponse(job: QueueableJob): void
  /** A dispatch nobody awaited failed: logged, since no caller can see it. */
  reportUnawaited(job: QueueableJob, error: unknown): void
}

/**
 * A job on its way to the queue, Laravel's `PendingDispatch`: set where it goes, then await it
 * (it resolves to the job's id). Not awaited, it is pushed all the same once the current
 * statement has run, and a failure is logged.
 *
 * ```ts
 * await ProcessPodcast.dispatch(7).onConnection('redis').onQueue('media').delay(60)
 * ```
 */
export class PendingDispatch<J extends QueueableJob, R extends string | null = string> implements PromiseLike<R> {
  private where: { -readonly [K in keyof JobPushOptions]: JobPushOptions[K] } = {}
  private started: Promise<R> | null = null
  private skip = false
  /** True once someone asked for the outcome (then/catch/finally): its failure is theirs, not the log's. */
  private observed = false

  constructor(
    /** The job to be queued. */
    readonly job: J,
    private readonly target: () => JobDispatchTarget,
  ) {
    queueMicrotask(() => {
      if (this.started !== null) return
      this.start().catch((error: unknown) => {
        if (!this.observed) this.target().reportUnawaited(this.job, error)
      })
    })
  }

  /** The queue it goes on, over the job's `queue`. */
  onQueue(queue: string): this {
    return this.set('onQueue', { queue })
  }

  /** The connection it goes to, over the job's `connection`. */
  onConnection(connection: string): this {
    return this.set('onConnection', { connection })
  }

  /** Seconds from now (or a Date) before a worker may take it, over the job's `delay`. */
  delay(delay: number | Date): this {
    return this.set('delay', { delay })
  }

  /** Inside a transaction, push it once the transaction commits (dropped on rollback). */
  afterCommit(): this {
    return this.set('afterCommit', { afterCommit: true })
  }

  /** Push it at once, even inside a transaction, over the job's `afterCommit`. */
  beforeCommit(): this {
    return this.set('beforeCommit', { afterCommit: false })
  }

  /** @internal A dispatch `dispatchIf`/`dispatchUnless` decided against: resolves to null, pushes nothing. */
  cancelled(): PendingDispatch<J, string | null> {
    this.skip = true
    return this as unknown as PendingDispatch<J, string | null>
  }

  then<T1 = R, T2 = never>(onfulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null, onrejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null): Promise<T1 | T2> {
    this.observed = true
    return this.start().then(onfulfilled, onrejected)
  }

  catch<T = never>(onrejected?: ((reason: unknown) => T | PromiseLike<T>) | null): Promise<R | T> {
    return this.then(undefined, onrejected)
  }

  finally(onfinally?: (() => void) | null): Promise<R> {
    this.observed = true
    return this.start().finally(onfinally)
  }

  private start(): Promise<R> {
    // In an executor: a dispatcher that cannot be found (no application) rejects rather than throws.
    this.started ??= this.skip ? Promise.resolve(null as R) : new Promise<R>((resolve) => resolve(this.target().dispatch(this.job, this.where) as Promise<R>))
    return this.started
  }

  private set(method: string, option: JobPushOptions): this {
    if (this.started !== null) {
      throw new Error(`${method}() came after the job was dispatched: call it in the same statement, before awaiting (await Job.dispatch(...).${method}(...)).`)
    }
    Object.assign(this.where, option)
    return this
  }
}
