import type { BroadcastDelivery, BroadcastMessage } from '../broadcasting/contracts.ts'
import type { Dispatcher } from '../events/dispatcher.ts'
import type { QueuedListenerGateway } from '../events/dispatch-contracts.ts'
import { eventClassName } from '../events/dispatchable.ts'
import { isShouldDispatchAfterCommit } from '../events/contracts.ts'
import type { DiscoveryReport } from '../events/discovery.ts'
import type { Redactor } from '../events/redaction.ts'
import type { RegisteredListener } from '../events/types.ts'
import { afterCommit } from '../database/transactions.ts'
import type { DatabaseManager } from '../database/database-manager.ts'
import type { QueueConfig, QueueConnectionConfig } from '../foundation/config.ts'
import type { EventsConfig } from '../foundation/events-config.ts'
import { UserError } from '../foundation/errors.ts'
import { LazyConnections } from '../foundation/lazy-connections.ts'
import type { Logger } from '../foundation/logger.ts'
import type { DriverModule, QueueDriver, QueueDriverContext } from './driver.ts'
import { NO_JOB_OPTIONS, createEnvelope, type JobEnvelope } from './envelope.ts'
import type { FailedJob, FailedJobStore } from './failed-job-store.ts'
import { JobHooks } from './job-hooks.ts'
import { JobRunner, type JobDefaults, type JobRunnerContext, type QueuedEventJob } from './job-runner.ts'
import { resolveEventQueueOptions, resolveQueueOptions, type ResolvedQueueOptions } from './queue-options.ts'
import type { QueuedJobRuntime } from './job-runtime.ts'
import { PayloadClasses } from './payload-classes.ts'
import type { JobPushOptions, PushInterceptor } from './push-types.ts'
import type { EventClassRegistry } from '../foundation/serializer.ts'

const driverModules: Record<QueueConnectionConfig['driver'], () => Promise<DriverModule>> = {
  sync: () => import('./drivers/sync-driver.ts'),
  database: () => import('./drivers/database-driver.ts'),
  bullmq: () => import('./drivers/bullmq-driver.ts'),
}

export type { JobPushOptions, PushInterceptor, PushedJob } from './push-types.ts'

export interface QueueManagerDependencies {
  readonly config: QueueConfig
  readonly events: Dispatcher
  readonly database: () => DatabaseManager
  readonly discovery: () => DiscoveryReport | undefined
  readonly logger: Logger
  readonly failedJobs: () => Promise<FailedJobStore>
  /** The `events.redact` rules, which failed jobs' errors pass (see JobRunnerContext.redactor). */
  readonly redactor?: () => Redactor
  /** Queue, attempts and backoff for queued listeners and events that set none (EVENTS_DEFAULT_QUEUE, …). */
  readonly listenerDefaults?: EventsConfig['queued']
}

/**
 * The queue side of the dispatcher: turns a queued listener (or a ShouldQueue event) into a
 * job envelope on its connection, after the transaction commits when asked to, and builds
 * the runner workers use. Connections are opened on first use.
 */
export class QueueManager implements QueuedListenerGateway {
  private readonly drivers = new LazyConnections<QueueDriver>((name) => this.open(name))
  private interceptor: PushInterceptor | null = null
  private broadcaster: BroadcastDelivery | null = null
  readonly registry: EventClassRegistry
  /** `Queue.before/after/failing` callbacks, run by this process's workers around each job. */
  readonly jobHooks: JobHooks
  private jobInstrument: JobRunnerContext['instrumentJob'] | null = null
  /**
   * The queued events this process's workers are dispatching now, each with its job: a queued
   * listener of one runs in that job instead of being queued again. Keyed by the decoded event
   * object, which is that job's alone; the count lets every other push skip the lookup.
   */
  private readonly eventJobs = new WeakMap<object, QueuedEventJob>()
  private eventJobsRunning = 0
  private readonly classes = new PayloadClasses()
  private jobs: QueuedJobRuntime | null = null

  constructor(private readonly deps: QueueManagerDependencies) {
    this.jobHooks = new JobHooks(() => deps.logger)
    this.registry = {
      classFor: (name) => deps.events.eventClass(name) ?? deps.discovery()?.events.get(name) ?? this.classes.classFor(name),
      nameOf: (instance) => {
        const ctor = (instance as { constructor?: Function }).constructor
        if (typeof ctor !== 'function') return undefined
        const registered = this.classes.nameOf(ctor)
        if (registered !== undefined) return registered
        const name = eventClassName(ctor)
        return this.registry.classFor(name) === ctor ? name : undefined
      },
    }
  }

  /**
   * Makes `ctor` known to job payloads under `name`: a job class (the jobs layer registers them),
   * or a class whose instances travel inside a job's arguments. A name taken by another class
   * is an error.
   */
  registerClass(name: string, ctor: Function): void {
    this.classes.register(name, ctor)
  }

  /** @internal The jobs layer installs how job classes run (null removes it). */
  useJobs(runtime: QueuedJobRuntime | null): void {
    this.jobs = runtime
  }

  /**
   * Queues a job class's instance (job 'job'): its options (`connection`, `queue`, `delay`,
   * `tries`, `backoff`, `timeout`, `maxExceptions`, `retryUntil`, `failOnTimeout`, `afterCommit`),
   * under what its pending dispatch set. The job travels through the serializer as itself.
   */
  async pushJob(job: object, name: string, where: JobPushOptions = {}, extra?: Pick<JobEnvelope, 'bus'>): Promise<string> {
    this.registerClass(name, job.constructor)
    const options = resolveEventQueueOptions(job)
    const base = this.envelope(options, job, { displayName: name, job: 'job', data: { event: name, payload: job } })
    const envelope: JobEnvelope = extra?.bus === undefined ? base : { ...base, bus: extra.bus }
    const placed: ResolvedQueueOptions = {
      ...options,
      ...(where.connection !== undefined && { connection: () => where.connection }),
      ...(where.queue !== undefined && { queue: () => where.queue }),
      ...(where.delay !== undefined && { delay: () => (where.delay instanceof Date ? Math.max(0, (where.delay.getTime() - Date.now()) / 1000) : Math.max(0, where.delay as number)) }),
    }
    const afterCommitToo = where.afterCommit ?? (options.afterCommit(job) || isShouldDispatchAfterCommit(job))
    const id = await this.pushEnvelope(envelope, placed, job, job.constructor, afterCommitToo)
    return typeof id === 'string' ? id : envelope.uuid
  }

  /** The application's logger, for drivers. */
  get logger(): Logger {
    return this.deps.logger
  }

  get defaultConnection(): string {
    return this.deps.config.default
  }

  /** The driver of a connection (the default one when no name is given). */
  connection(name = this.deps.config.default): Promise<QueueDriver> {
    return this.drivers.get(name)
  }

  /** The settings of a connection, as config/queue.ts gives them. */
  settings(name = this.deps.config.default): QueueConnectionConfig {
    const settings = this.deps.config.connections[name]
    if (settings === undefined) {
      const known = Object.keys(this.deps.config.connections).join(', ')
      throw new UserError(`Queue connection "${name}" is not configured in config/queue.ts (known: ${known}).`)
    }
    return settings
  }

  /** The default queue name of a connection. */
  defaultQueue(name = this.deps.config.default): string {
    const settings = this.settings(name)
    return settings.driver === 'sync' ? 'default' : settings.queue
  }

  /** The queues `queue:work` works when given none: the connection's, and EVENTS_DEFAULT_QUEUE's when set. */
  workQueues(name = this.deps.config.default): string[] {
    const queues = [this.defaultQueue(name)]
    const events = this.deps.listenerDefaults?.queue
    if (events != null && !queues.includes(events)) queues.push(events)
    return queues
  }

  private get defaultBackoff(): number[] | null {
    const seconds = this.deps.listenerDefaults?.backoff
    return seconds == null ? null : [seconds]
  }

  database(): DatabaseManager {
    return this.deps.database()
  }

  failedJobs(): Promise<FailedJobStore> {
    return this.deps.failedJobs()
  }

  /**
   * @internal Tracing installs its wrapper around every job the runners made from now on run
   * (the job's span); null removes it.
   */
  instrumentJobs(instrument: NonNullable<JobRunnerContext['instrumentJob']> | null): void {
    this.jobInstrument = instrument
  }

  /** The job pipeline for a connection's jobs. */
  runner(connection: string, defaults?: JobDefaults): JobRunner {
    return new JobRunner(
      {
        connection,
        registry: this.registry,
        resolveListener: (name) => this.resolveListener(name),
        dispatchNow: (eventName, job, event) => this.dispatchInJob(eventName, job, event),
        ...(this.broadcaster !== null && { deliverBroadcast: this.broadcaster.deliver.bind(this.broadcaster) }),
        failedJobs: () => this.deps.failedJobs(),
        logger: this.deps.logger,
        ...(this.jobInstrument !== null && { instrumentJob: this.jobInstrument }),
        ...(this.deps.redactor !== undefined && { redactor: this.deps.redactor() }),
        jobs: () => this.jobs,
      },
      defaults,
    )
  }

  /**
   * Queues a ShouldQueue listener for an event (the dispatcher calls this); inside a queued
   * event's job bound for the same connection and queue, runs it there instead.
   */
  async push(listener: RegisteredListener, eventName: string, event: unknown): Promise<unknown> {
    const options = resolveQueueOptions(listener.listener as Function)
    if (!options.shouldQueue(event)) return undefined
    if (this.eventJobsRunning > 0 && typeof event === 'object' && event !== null) {
      const job = this.eventJobs.get(event)
      if (job !== undefined && this.belongsTo(job, options, event)) return job.runListener(listener.listener as Function, listener.method ?? 'handle', event)
    }
    const envelope = this.envelope(options, event, {
      displayName: listener.name,
      job: 'listener',
      data: { listener: listener.name, method: listener.method, event: eventName, payload: event },
    })
    const afterCommitToo = options.afterCommit(event) || isShouldDispatchAfterCommit(event)
    return this.pushEnvelope(envelope, options, event, listener.listener, afterCommitToo)
  }

  /** Queues a whole ShouldQueue event: a worker dispatches it to its listeners. */
  async pushEvent(eventName: string, event: object): Promise<unknown> {
    const options = resolveEventQueueOptions(event)
    const envelope = this.envelope(options, event, {
      displayName: eventName,
      job: 'event',
      data: { event: eventName, payload: event },
    })
    return this.pushEnvelope(envelope, options, event, event.constructor, isShouldDispatchAfterCommit(event))
  }

  /**
   * Queues a ShouldBroadcast event's message, on the default connection and `queue` (the
   * event's `broadcastQueue`) or the connection's default queue: a worker delivers it on its
   * broadcast connection. The message was read from the event at dispatch, so the job needs
   * neither the event class nor its constructor.
   */
  async pushBroadcast(eventName: string, event: object, message: BroadcastMessage, queue: string | undefined): Promise<unknown> {
    const envelope = createEnvelope(
      {
        displayName: eventName,
        job: 'broadcast',
        data: { event: eventName, payload: message },
        ...NO_JOB_OPTIONS,
      },
      this.registry,
    )
    const connection = this.deps.config.default
    return this.send(envelope, { connection, queue: queue ?? this.defaultQueue(connection), delay: 0, priority: 0 }, event.constructor, event)
  }

  /** @internal The broadcast manager installs itself here, so workers can deliver broadcast jobs. */
  useBroadcaster(delivery: BroadcastDelivery | null): void {
    this.broadcaster = delivery
  }

  /**
   * Pushes a failed job back on its connection and queue with its attempts reset, then
   * removes it from failed jobs (`queue:retry`, a dashboard's Retry button). An undecodable
   * payload goes back as it was: the worker fails it again with the reason.
   */
  async retryFailedJob(job: FailedJob): Promise<void> {
    let payload = job.payload
    try {
      payload = JSON.stringify({ ...(JSON.parse(job.payload) as object), attempts: 0, exceptions: 0 })
    } catch {
      // Left as it was.
    }
    await this.pushRaw(job.connection, job.queue, payload)
    await (await this.failedJobs()).forget(String(job.id))
  }

  /** Pushes a stored payload again (queue:retry), on its connection and queue. */
  async pushRaw(connection: string, queue: string, payload: string): Promise<string> {
    return (await this.connection(connection)).push(payload, { queue, delay: 0, priority: 0 })
  }

  /** @internal `Queue.fake()` installs itself here. */
  intercept(interceptor: PushInterceptor | null): void {
    this.interceptor = interceptor
  }

  get currentInterceptor(): PushInterceptor | null {
    return this.interceptor
  }

  /** Closes every connection opened. */
  async close(): Promise<void> {
    await this.drivers.closeAll((driver) => driver.close(), 'queue connections')
  }

  private envelope(
    options: ResolvedQueueOptions,
    event: unknown,
    base: Pick<JobEnvelope, 'displayName' | 'job'> & { data: JobEnvelope['data'] },
  ): JobEnvelope {
    return createEnvelope(
      {
        ...base,
        maxTries: options.tries(event) ?? this.deps.listenerDefaults?.tries ?? null,
        maxExceptions: options.maxExceptions(event),
        backoff: options.backoff(event) ?? this.defaultBackoff,
        timeout: options.timeout(event),
        failOnTimeout: options.failOnTimeout(event),
        retryUntil: options.retryUntil(event),
      },
      this.registry,
    )
  }

  private async pushEnvelope(
    envelope: JobEnvelope,
    options: ResolvedQueueOptions,
    event: unknown,
    target: unknown,
    holdUntilCommit: boolean,
  ): Promise<unknown> {
    const connection = options.connection(event) ?? this.deps.config.default
    const queue = options.queue(event) ?? this.deps.listenerDefaults?.queue ?? this.defaultQueue(connection)
    const delay = options.delay(event)
    const priority = options.priority(event)
    const send = () => this.send(envelope, { connection, queue, delay, priority }, target, event)
    if (!holdUntilCommit) return send()
    let id: unknown
    await afterCommit(async () => {
      id = await send()
    })
    return id ?? envelope.uuid
  }

  /** A worker's dispatch of a queued event, inside its job (see `eventJobs`). */
  private async dispatchInJob(eventName: string, job: QueuedEventJob, event: unknown): Promise<unknown> {
    if (typeof event !== 'object' || event === null) return this.deps.events.dispatchNow(eventName, event)
    this.eventJobs.set(event, job)
    this.eventJobsRunning++
    try {
      return await this.deps.events.dispatchNow(eventName, event)
    } finally {
      this.eventJobs.delete(event)
      this.eventJobsRunning--
    }
  }

  /**
   * True when a queued listener would go where the event's job came from, now: same connection,
   * same queue, no delay. One naming another connection or queue (or a delay) is queued as usual.
   */
  private belongsTo(job: QueuedEventJob, options: ResolvedQueueOptions, event: unknown): boolean {
    const connection = options.connection(event) ?? this.deps.config.default
    return connection === job.connection && (options.queue(event) ?? this.defaultQueue(connection)) === job.queue && options.delay(event) === 0
  }

  /** To the fake when one is installed, else to the connection's driver. */
  private async send(
    envelope: JobEnvelope,
    where: { connection: string; queue: string; delay: number; priority: number },
    target: unknown,
    event: unknown,
  ): Promise<unknown> {
    const { connection, queue, delay, priority } = where
    if (this.interceptor !== null) {
      this.interceptor.record({ connection, queue, delay, envelope, target, event })
      return envelope.uuid
    }
    const driver = await this.connection(connection)
    return driver.push(JSON.stringify(envelope), { queue, delay, priority })
  }

  /** The queued listener registered under `name`, as the dispatcher's registry knows it (a worker asks for every job). */
  private resolveListener(name: string): { listener: Function; method: string } | undefined {
    const registered = this.deps.events.queuedListener(name)
    return registered === undefined ? undefined : { listener: registered.listener as Function, method: registered.method ?? 'handle' }
  }

  private async open(name: string): Promise<QueueDriver> {
    const settings = this.settings(name)
    const module = await driverModules[settings.driver]()
    return module.createDriver(name, settings, this.driverContext())
  }

  /** What a driver gets of this manager: the few members drivers use, never the manager itself. */
  private driverContext(): QueueDriverContext {
    return {
      logger: this.logger,
      database: () => this.database(),
      runner: (connection) => this.runner(connection),
      failedJobs: () => this.failedJobs(),
    }
  }
}
