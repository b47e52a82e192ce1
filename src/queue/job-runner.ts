import type { BroadcastMessage } from '../broadcasting/contracts.ts'
import { JOB_CONTEXT } from '../events/contracts.ts'
import { withEventContext } from '../events/event-context.ts'
import type { Redactor } from '../events/redaction.ts'
import { isThenable } from '../foundation/promises.ts'
import type { Logger } from '../foundation/logger.ts'
import type { DeliveredJob, JobOutcome } from './driver.ts'
import { decodePayload, parseEnvelope, type JobEnvelope } from './envelope.ts'
import type { FailedJobStore } from './failed-job-store.ts'
import { PayloadDecodeError } from '../foundation/payload-decode-error.ts'
import { RunningJob, type QueuedEventJob } from './running-job.ts'
import type { QueuedJobRuntime } from './job-runtime.ts'
import { runMiddleware } from './middleware-pipeline.ts'
import { errorMessage } from '../foundation/error-message.ts'
import { JobFailedError, JobTimeoutError, withDeadline } from './job-deadline.ts'
import type { EventClassRegistry } from '../foundation/serializer.ts'

/** Worker-wide defaults for jobs that do not set their own (`queue:work --tries --backoff --timeout`). */
export interface JobDefaults {
  readonly tries: number
  /** Seconds between retries when the job sets no backoff. */
  readonly backoff: number
  /** Seconds an attempt may run when the job sets no timeout; 0 for none. */
  readonly timeout: number
}

/** What the runner needs from the application. */
export interface JobRunnerContext {
  readonly connection: string
  readonly registry: EventClassRegistry
  /** The queued listener class registered under `name`, and the method to call. */
  resolveListener(name: string): { readonly listener: Function; readonly method: string } | undefined
  /**
   * Dispatches a ShouldQueue event's listeners now, in this process, inside its `job`: queued
   * listeners bound for the job's own connection and queue run there (`job.runListener`), not
   * queued again.
   */
  dispatchNow(eventName: string, job: QueuedEventJob, event: unknown): Promise<unknown>
  /** Delivers a broadcast job's message on this process's broadcast connection; absent without broadcasting. */
  deliverBroadcast?(message: BroadcastMessage): Promise<void>
  failedJobs(): Promise<FailedJobStore>
  readonly logger: Logger
  /**
   * The `events.redact` rules: a failed job's error, as failed_jobs, the worker's output and
   * `Queue.after/failing` callbacks get it, has the event's masked values taken out of its
   * message and stack (a listener's `throw new Error(\`card ${event.card} declined\`)`).
   */
  readonly redactor?: Redactor
  /**
   * Wraps each job's run (tracing: the job's span, a child of the span that queued it). Must
   * call `run` (with the trace context the job's own dispatches should continue) and return
   * what it returns.
   */
  readonly instrumentJob?: (envelope: JobEnvelope, run: (trace?: unknown) => unknown) => unknown
  /** How job classes run (job 'job'); absent until the jobs layer installs it. */
  readonly jobs?: () => QueuedJobRuntime | null
}

type Handler = (event: unknown) => unknown

/** The shutdown signal of a job run outside a worker (the sync driver): never aborts. */
const NO_SHUTDOWN = new AbortController().signal

/**
 * The one pipeline every driver's jobs go through: decode, resolve the listener, run it with
 * its timeout and abort signal, then decide: done, release (retry with backoff), or fail
 * (call `failed()` once, write failed_jobs). Never throws: every outcome is a value.
 */
export class JobRunner {
  constructor(
    private readonly context: JobRunnerContext,
    private readonly defaults: JobDefaults = { tries: 1, backoff: 0, timeout: 0 },
  ) {}

  async process(job: DeliveredJob, shutdown: AbortSignal = NO_SHUTDOWN): Promise<JobOutcome> {
    let envelope: JobEnvelope
    let event: unknown
    let handler: Handler
    let failedHook: ((event: unknown, error: unknown) => unknown) | null = null
    let instance: Record<symbol, unknown> | null = null
    let attempt = Math.max(job.attempts, 1)
    let state: RunningJob
    let parsed: JobEnvelope | null = null
    try {
      envelope = parsed = parseEnvelope(job.payload)
      // The driver counted every delivery; releases that were not attempts (a rate limit's) come off.
      const uncounted = envelope.uncounted
      if (uncounted !== undefined && uncounted > 0) attempt = Math.max(attempt - uncounted, 1)
      state = new RunningJob(attempt, shutdown, this.context.connection, job.queue)
      event = decodePayload(envelope, this.context.registry)
      ;({ handler, failedHook, instance } = this.resolveHandler(envelope, state, job.queue, event))
    } catch (error) {
      return this.fail(job, null, null, null, error, parsed)
    }

    const maxTries = envelope.maxTries ?? this.defaults.tries
    if (envelope.retryUntil === null && maxTries > 0 && attempt > maxTries) {
      // A delivery past the limit: its previous attempts were never settled (deliveries since the last recorded attempt).
      const lapsed = attempt - 1 - envelope.attempts
      const reason = lapsed > 0 ? ` (lease lapsed ${lapsed} time(s): the worker died or lost its connection)` : ''
      return this.fail(job, envelope, event, failedHook, new JobFailedError(`${envelope.displayName} has been attempted too many times${reason}.`))
    }
    if (envelope.retryUntil !== null && Date.now() > envelope.retryUntil && attempt > 1) {
      return this.fail(job, envelope, event, failedHook, new JobFailedError(`${envelope.displayName} has passed its retryUntil.`))
    }

    const timeoutSeconds = envelope.timeout ?? this.defaults.timeout
    let thrown: { error: unknown } | null = null
    try {
      // The listener instance is this job's alone: its attempts()/release()/fail()/signal read
      // the job from it (no AsyncLocalStorage, whose promise hooks would tax every await).
      if (instance !== null) instance[JOB_CONTEXT] = state
      const result = envelope.context === undefined && this.context.instrumentJob === undefined ? handler(event) : this.runInContext(envelope, handler, event)
      // A handler that returned no promise has finished: no timer could have fired while it ran.
      if (isThenable(result)) {
        await (timeoutSeconds > 0 ? withDeadline(result, state, timeoutSeconds, envelope.displayName, this.context.logger) : result)
      }
    } catch (error) {
      thrown = { error }
    } finally {
      state.finish()
    }
    if (state.listenerFailures !== null) {
      thrown ??= { error: listenerError(envelope, state.listenerFailures) }
      failedHook = this.listenerFailedHooks(envelope, state.listenerFailures)
    }

    if (state.failed !== null) return this.fail(job, envelope, event, failedHook, state.failed.error)
    if (thrown === null) {
      if (state.released !== null) {
        return state.releaseCounts ? this.release(envelope, attempt, envelope.exceptions, state.released) : this.releaseUncounted(envelope, attempt, state.released)
      }
      if (envelope.job === 'job') {
        let following: Promise<void> | undefined
        try {
          following = this.context.jobs?.()?.succeeded(event as object, envelope, { connection: this.context.connection, queue: job.queue })
        } catch (error) {
          following = Promise.reject(error)
        }
        if (following !== undefined) return this.succeeded(following, envelope, attempt)
      }
      return { kind: 'done' }
    }
    return this.afterException(job, envelope, event, failedHook, attempt, thrown.error)
  }

  /** A job class's job that succeeded: what follows it runs before the driver acknowledges it; if that fails, the job runs again. */
  private async succeeded(following: Promise<void>, envelope: JobEnvelope, attempt: number): Promise<JobOutcome> {
    try {
      await following
      return { kind: 'done' }
    } catch (error) {
      this.context.logger.error(`${envelope.displayName} succeeded, but what follows it failed (${String(error)}); it will run again.`)
      return this.release(envelope, attempt, envelope.exceptions, this.defaults.backoff)
    }
  }

  /**
   * Runs the handler in the event context the job was pushed in (its events continue the
   * chain: same correlation id, caused by the event that queued the job), inside the
   * instrumentation's wrapper when there is one.
   */
  private runInContext(envelope: JobEnvelope, handler: Handler, event: unknown): unknown {
    const carried = envelope.context
    const run = (trace?: unknown) =>
      withEventContext(
        {
          correlationId: carried?.correlationId ?? envelope.uuid,
          eventId: carried?.eventId ?? null,
          causationId: carried?.causationId ?? null,
          ...(trace === undefined ? {} : { trace }),
        },
        () => handler(event),
      )
    return this.context.instrumentJob === undefined ? run() : this.context.instrumentJob(envelope, run)
  }

  /** The failed() hooks of a queued event's listeners that threw, each run even when another throws. */
  private listenerFailedHooks(envelope: JobEnvelope, failures: NonNullable<RunningJob['listenerFailures']>): () => Promise<void> {
    return async () => {
      for (const { failed } of failures) {
        if (failed === null) continue
        try {
          await failed()
        } catch (hookError) {
          this.context.logger.error(`failed() of a listener of ${envelope.displayName} threw: ${String(hookError)}`)
        }
      }
    }
  }

  private afterException(
    job: DeliveredJob,
    envelope: JobEnvelope,
    event: unknown,
    failedHook: ((event: unknown, error: unknown) => unknown) | null,
    attempt: number,
    error: unknown,
  ): Promise<JobOutcome> | JobOutcome {
    const exceptions = envelope.exceptions + 1
    if (error instanceof JobTimeoutError && envelope.failOnTimeout) return this.fail(job, envelope, event, failedHook, error)
    if (envelope.maxExceptions !== null && exceptions >= envelope.maxExceptions) {
      return this.fail(job, envelope, event, failedHook, error)
    }
    const canRetry =
      envelope.retryUntil !== null
        ? Date.now() < envelope.retryUntil
        : attempt < (envelope.maxTries ?? this.defaults.tries)
    if (!canRetry) return this.fail(job, envelope, event, failedHook, error)
    const backoff = envelope.backoff
    const delay = backoff && backoff.length > 0 ? backoff[Math.min(attempt - 1, backoff.length - 1)]! : this.defaults.backoff
    return this.release(envelope, attempt, exceptions, delay)
  }

  private release(envelope: JobEnvelope, attempt: number, exceptions: number, delay: number): JobOutcome {
    return { kind: 'release', delay, payload: JSON.stringify({ ...envelope, attempts: attempt, exceptions }) }
  }

  /** A release that is not an attempt: the next delivery runs as this same attempt number. */
  private releaseUncounted(envelope: JobEnvelope, attempt: number, delay: number): JobOutcome {
    const uncounted = (envelope.uncounted ?? 0) + 1
    return { kind: 'release', delay, payload: JSON.stringify({ ...envelope, attempts: attempt - 1, uncounted }) }
  }

  private async fail(
    job: DeliveredJob,
    envelope: JobEnvelope | null,
    event: unknown,
    failedHook: ((event: unknown, error: unknown) => unknown) | null,
    error: unknown,
    /** The envelope of a payload that parsed but could not be run (its job class unknown), for the jobs layer. */
    parsed: JobEnvelope | null = envelope,
  ): Promise<JobOutcome> {
    if (failedHook !== null) {
      try {
        await failedHook(event, error)
      } catch (hookError) {
        this.context.logger.error(`failed() of ${envelope?.displayName ?? 'a job'} threw: ${String(hookError)}`)
      }
    }
    const payload = envelope === null ? job.payload : JSON.stringify({ ...envelope, attempts: Math.max(job.attempts, 1) })
    // The failed() hook above is the listener's own and saw the error as thrown; what is
    // written down and reported from here on is for operators.
    const reported = this.context.redactor === undefined || event === null ? error : this.context.redactor.redactError(error, event)
    try {
      const store = await this.context.failedJobs()
      await store.log(this.context.connection, job.queue, payload, reported)
    } catch (storeError) {
      // Losing the record is worse than losing the job's place: say so loudly.
      this.context.logger.error(`Could not record failed job ${job.id} in failed_jobs: ${String(storeError)}`)
    }
    if (parsed !== null && parsed.job === 'job') {
      const runtime = this.context.jobs?.()
      try {
        await runtime?.failed(envelope === null ? null : (event as object), parsed, reported, { connection: this.context.connection, queue: job.queue })
      } catch (hookError) {
        this.context.logger.error(`After ${parsed.displayName} failed: ${String(hookError)}`)
      }
    }
    return { kind: 'failed', error: reported }
  }

  /** A broadcast job's handler; a job that cannot be delivered fails at once, without retries. */
  private broadcastHandler(envelope: JobEnvelope): Handler {
    const context = this.context
    if (context.deliverBroadcast === undefined) {
      throw new JobFailedError(`Broadcast job ${envelope.displayName} needs broadcasting: is the BroadcastServiceProvider registered?`)
    }
    // The payload is plain data, identical encoded and decoded: its shape can be checked here.
    const message = envelope.data.payload as Partial<BroadcastMessage> | null
    if (message === null || typeof message !== 'object' || !Array.isArray(message.channels) || typeof message.event !== 'string') {
      throw new JobFailedError(`Broadcast job ${envelope.displayName} carries no broadcast message (channels, event, data).`)
    }
    return (decoded) => context.deliverBroadcast!(decoded as BroadcastMessage)
  }

  private resolveHandler(envelope: JobEnvelope, state: RunningJob, queue: string, event: unknown): {
    handler: Handler
    failedHook: ((event: unknown, error: unknown) => unknown) | null
    instance: Record<symbol, unknown> | null
  } {
    if (envelope.job === 'job') return this.jobHandler(envelope, state, queue, event)
    // Bound functions rather than closures: no function literal is made per job.
    if (envelope.job === 'event') {
      return { handler: this.context.dispatchNow.bind(this.context, envelope.data.event, state), failedHook: null, instance: null }
    }
    if (envelope.job === 'broadcast') return { handler: this.broadcastHandler(envelope), failedHook: null, instance: null }
    const name = envelope.data.listener
    const found = name === undefined ? undefined : this.context.resolveListener(name)
    if (found === undefined) {
      throw new JobFailedError(
        `Listener "${name ?? '(none)'}" is not a registered queued listener: is it exported from app/listeners and marked ShouldQueue?`,
      )
    }
    const instance = new (found.listener as new () => Record<string, unknown>)()
    const method = instance[found.method]
    if (typeof method !== 'function') throw new JobFailedError(`Listener "${name}" has no ${found.method}() method.`)
    const failed = instance.failed
    const handle = (method as Handler).bind(instance)
    return {
      handler: instance.middleware === undefined ? handle : this.withListenerMiddleware(name!, instance, handle),
      failedHook: typeof failed === 'function' ? (failed as (e: unknown, r: unknown) => unknown).bind(instance) : null,
      instance: instance as Record<symbol, unknown>,
    }
  }

  /**
   * A queued listener's handler inside its `middleware(event)` (a method, or a list as a
   * property): the same steps as a job's (`(listener, next) => …` or `{ handle(listener, next) }`),
   * run outermost first with the listener instance as the job; a string (`'throttle:10,1'`) is
   * made into a step by the jobs layer. Not calling next() skips the listener.
   */
  private withListenerMiddleware(name: string, instance: Record<string, unknown>, handle: Handler): Handler {
    const declared = instance.middleware
    const named = (list: readonly unknown[]) => list.map((step) => (typeof step === 'string' ? this.namedMiddleware(step, name) : step))
    // A list property is resolved here, before the run: a misnamed step fails the job at once.
    const fixed = Array.isArray(declared) ? named(declared) : null
    return (event) => {
      const list: unknown = fixed ?? (typeof declared === 'function' ? (declared as (event: unknown) => unknown).call(instance, event) : declared)
      if (!Array.isArray(list) || list.length === 0) return handle(event)
      return runMiddleware(fixed ?? named(list), instance, () => handle(event), `Listener "${name}"`)
    }
  }

  private namedMiddleware(spec: string, listener: string): unknown {
    const runtime = this.context.jobs?.() ?? null
    if (runtime?.namedMiddleware === undefined) {
      throw new JobFailedError(`Listener "${listener}" uses the middleware "${spec}", which needs the jobs layer (JobsServiceProvider): is the application booted with the framework's providers?`)
    }
    try {
      return runtime.namedMiddleware(spec, listener)
    } catch (error) {
      // A misnamed step is a mistake in the code: no retry will mend it.
      throw new JobFailedError(errorMessage(error))
    }
  }

  /** A job class's job: the decoded payload is the job; the jobs layer runs it (its middleware, then handle()). */
  private jobHandler(envelope: JobEnvelope, state: RunningJob, queue: string, event: unknown): {
    handler: Handler
    failedHook: ((event: unknown, error: unknown) => unknown) | null
    instance: Record<symbol, unknown> | null
  } {
    const runtime = this.context.jobs?.() ?? null
    if (runtime === null) throw new JobFailedError(`Job ${envelope.displayName} needs the jobs layer (JobsServiceProvider): is the application booted with the framework's providers?`)
    const decoded = event as Record<string | symbol, unknown> | null
    if (decoded === null || typeof decoded !== 'object' || typeof decoded.handle !== 'function') {
      throw new JobFailedError(`Job "${envelope.data.event}" is not a job class (a class extending Job with handle()): is it exported from app/jobs?`)
    }
    const failed = decoded.failed
    const place = { connection: this.context.connection, queue }
    return {
      handler: (job) => runtime.run(job as object, state, envelope, place),
      failedHook: typeof failed === 'function' ? (_job, error) => (failed as (error: unknown) => unknown).call(decoded, error) : null,
      instance: decoded,
    }
  }
}

/** The error of a queued event's job whose listeners threw (though an `onError` handler may have taken it). */
function listenerError(envelope: JobEnvelope, failures: ReadonlyArray<{ readonly error: unknown }>): unknown {
  if (failures.length === 1) return failures[0]!.error
  return new AggregateError(
    failures.map(({ error }) => error),
    `${failures.length} queued listeners of ${envelope.displayName} failed`,
  )
}

export { JobFailedError, JobTimeoutError, PayloadDecodeError, type QueuedEventJob }
