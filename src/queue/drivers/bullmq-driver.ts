import { Queue } from 'bullmq'
import type { QueueConnectionConfig } from '../../foundation/config.ts'
import { createLogger, type Logger } from '../../foundation/logger.ts'
import { isConnectionError } from '../../foundation/service-errors.ts'
import type { ConsumeOptions, PushOptions, QueueDriver, QueueDriverContext } from '../driver.ts'
import type { FailedJobStore } from '../failed-job-store.ts'
import { DEFAULT_RECONNECT_POLICY } from '../reconnect.ts'
import { REDIS_CONNECT_TIMEOUT_MS, RedisLink } from './bullmq-connection.ts'
import { BullmqConsumer } from './bullmq-consumer.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/** A bullmq connection's settings, times in seconds as everywhere in Herald's queue config. */
export interface BullmqDriverOptions {
  /** `redis://[user:password@]host:port[/db]` */
  readonly url: string
  /** Prefix of every Redis key, so several applications can share one Redis. */
  readonly prefix: string
  /**
   * Seconds a job's lock lasts; it is renewed every half of that while the job runs. A job whose
   * worker died (kill -9, lost host) is delivered again once its lock lapses and a stalled-job
   * check has seen it twice: within `lockDuration + 2 × stalledInterval`. Default 6 (14 s at most with the default interval).
   */
  readonly lockDuration?: number
  /** Seconds between stalled-job checks. Default 4 (BullMQ: 30), so a dead worker's job runs again within 15 s. */
  readonly stalledInterval?: number
  /**
   * Honour job priorities (QUEUE_PRIORITIES). Off by default, as Laravel's queues have none:
   * jobs then go on BullMQ's plain first-in first-out list, which costs Redis less per job than
   * its prioritized set. Every job of a queue must go through the same one.
   */
  readonly priorities?: boolean
  readonly logger?: Logger
  /** Where jobs BullMQ cannot decode are quarantined; without one they stay in BullMQ's failed set. */
  readonly failedJobs?: () => Promise<FailedJobStore>
}

/**
 * Reconnection tries a command of the producer connection waits before failing: with the
 * capped backoff that is about two seconds, after the connection itself was up. A connection
 * that is not up is waited for at most REDIS_CONNECT_TIMEOUT_MS before a command is sent at all.
 */
const PRODUCER_RETRIES = 4

/** BullMQ's priority range: 1 runs first, 2^21 last; 0 means "none" and would jump every priority. */
const BULLMQ_LOWEST = 2 ** 21
const HERALD_ZERO = 2 ** 20

/**
 * Herald's priority (higher runs first, 0 by default) as BullMQ's (lower runs first). Every job
 * gets one: BullMQ takes unprioritized jobs before all prioritized ones, so a default job left
 * without would run ahead of an urgent one. Herald priorities beyond ±2^20 are clamped.
 */
export function bullmqPriority(priority: number): number {
  const herald = Number.isFinite(priority) ? Math.round(priority) : 0
  return Math.min(Math.max(HERALD_ZERO - herald, 1), BULLMQ_LOWEST)
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Queues on Redis through BullMQ: one BullMQ Queue per queue name, created on first use. BullMQ
 * stores, delays, orders and locks jobs and recovers those of dead workers; Herald's pipeline
 * decides retries, backoff and failure, so BullMQ's own retries are never used.
 *
 * Connections: one for pushing (a failing Redis makes `push` reject rather than wait forever),
 * one shared by the Workers of every `consume`, and one per `consume` that blocks while the
 * queues are empty. A Redis that cannot be reached is a ServiceUnreachableError naming it
 * (`Redis at redis://host:port is unreachable (connect ECONNREFUSED …)`), within
 * REDIS_CONNECT_TIMEOUT_MS for a command, or after the reconnect policy's `maxDisconnected` for a
 * consumer that was connected.
 */
export class BullmqDriver implements QueueDriver {
  private readonly queues = new Map<string, Queue>()
  private readonly consumers = new Set<{ readonly stop: AbortController; readonly done: Promise<void> }>()
  private producer: RedisLink | null = null
  private workerConnection: RedisLink | null = null
  private closing: Promise<void> | null = null
  private evictionChecked = false
  private readonly logger: Logger
  private readonly lockDuration: number
  private readonly stalledInterval: number
  private readonly priorities: boolean
  private priorityWarned = false

  constructor(
    readonly connection: string,
    private readonly options: BullmqDriverOptions,
  ) {
    this.logger = options.logger ?? createLogger('info')
    this.lockDuration = Math.round((options.lockDuration ?? 6) * 1000)
    this.stalledInterval = Math.round((options.stalledInterval ?? 4) * 1000)
    this.priorities = options.priorities ?? false
  }

  /**
   * Adds a job. Its BullMQ id is the envelope's uuid, so pushing the same envelope twice (a
   * retried request) stores it once; finished jobs are removed, so `queue:retry` can push a
   * failed envelope again.
   */
  async push(payload: string, options: PushOptions): Promise<string> {
    const { uuid, name } = identify(payload)
    if (!this.priorities && options.priority !== 0 && !this.priorityWarned) {
      this.priorityWarned = true
      this.logger.warn(`${name} has priority ${options.priority}, but queue connection "${this.connection}" ignores priorities: set QUEUE_PRIORITIES=true (priorities in config/queue.ts) to honour them.`)
    }
    const job = await this.command(() =>
      this.queue(options.queue).add(name, payload, {
        jobId: uuid,
        delay: Number.isFinite(options.delay) ? Math.max(0, Math.round(options.delay * 1000)) : 0,
        ...(this.priorities && { priority: bullmqPriority(options.priority) }),
        removeOnComplete: true,
        removeOnFail: true,
      }),
    )
    return job.id!
  }

  /** Jobs waiting (prioritized, paused) or delayed; not those running. */
  async size(queue: string): Promise<number> {
    const counts = await this.command(() => this.queue(queue).getJobCounts('waiting', 'paused', 'prioritized', 'delayed'))
    return sum(counts)
  }

  /** Deletes the waiting and delayed jobs of a queue; running jobs finish. */
  async clear(queue: string): Promise<number> {
    const count = await this.size(queue)
    await this.command(() => this.queue(queue).drain(true))
    return count
  }

  async consume(options: ConsumeOptions): Promise<void> {
    const queues = [...new Set(options.queues)]
    if (queues.length === 0) {
      throw new Error(`No queue to consume on connection "${this.connection}": name at least one (queue:work --queue=default).`)
    }
    if (this.closing !== null || options.signal.aborted) return
    // A consumer that never reached Redis gives up soon: the address or the service is wrong.
    const link = this.workers()
    const limit = (options.reconnect ?? DEFAULT_RECONNECT_POLICY).maxDisconnected
    const wait = limit > 0 ? Math.min(REDIS_CONNECT_TIMEOUT_MS, limit * 1000) : REDIS_CONNECT_TIMEOUT_MS
    if (!(await link.waitReady(wait, options.signal))) {
      if (options.signal.aborted || this.closing !== null) return
      throw link.unreachable()
    }
    await this.warnIfEvicting()
    // close() may have started while Redis answered.
    if (this.closing !== null) return
    const stop = new AbortController()
    const consumer = new BullmqConsumer(
      {
        url: this.options.url,
        prefix: this.options.prefix,
        link,
        lockDuration: this.lockDuration,
        stalledInterval: this.stalledInterval,
        logger: this.logger,
        pending: async (queue) => sum(await this.queue(queue).getJobCounts('waiting', 'paused', 'prioritized', 'delayed', 'active')),
        quarantine: async (queue, payload, reason) => {
          if (this.options.failedJobs === undefined) return false
          await (await this.options.failedJobs()).log(this.connection, queue, payload, reason)
          return true
        },
      },
      { ...options, queues, signal: AbortSignal.any([options.signal, stop.signal]) },
    )
    const entry = { stop, done: consumer.run() }
    this.consumers.add(entry)
    try {
      await entry.done
    } finally {
      this.consumers.delete(entry)
    }
  }

  /** Stops consumers (they finish the jobs in hand), then closes queues and connections. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    for (const consumer of this.consumers) consumer.stop.abort()
    for (const consumer of [...this.consumers]) {
      try {
        await consumer.done
      } catch (error) {
        this.logger.error(`A BullMQ consumer of connection "${this.connection}" failed while stopping: ${errorMessage(error)}`)
      }
    }
    // A Queue whose connection never became ready is still starting up, and rejects that
    // start-up with the last connection error once the connection ends. queue.close() removes
    // BullMQ's listeners, so the rejection would then be re-emitted to no one: an unhandled
    // rejection (ECONNREFUSED after /health with Redis down), a crash in a server. Such queues
    // hold nothing but that connection: it is ended and they are left with their listeners.
    const ready = this.producer === null || this.producer.connected
    if (!ready) this.producer!.redis.disconnect()
    for (const [name, queue] of ready ? this.queues : []) {
      try {
        // A Queue still waiting for a Redis that never came would wait forever.
        await Promise.race([queue.close(), pause(2_000)])
      } catch (error) {
        this.logger.error(`Closing BullMQ queue "${name}" failed: ${errorMessage(error)}`)
      }
    }
    this.queues.clear()
    for (const link of [this.producer, this.workerConnection]) {
      if (link === null || (link === this.producer && !ready)) continue
      try {
        await link.close()
      } catch (error) {
        this.logger.error(`Closing a Redis connection of queue connection "${this.connection}" failed: ${errorMessage(error)}`)
      }
    }
  }

  /**
   * Runs a producer command once the connection is up (waiting at most
   * REDIS_CONNECT_TIMEOUT_MS, and sending nothing if it is not), and turns a lost connection
   * into the error that names Redis.
   */
  private async command<T>(run: () => Promise<T>): Promise<T> {
    const link = this.producerLink()
    if (!(await link.waitReady(REDIS_CONNECT_TIMEOUT_MS))) throw link.unreachable()
    try {
      return await run()
    } catch (error) {
      throw isConnectionError(error) ? link.unreachable(error) : error
    }
  }

  private producerLink(): RedisLink {
    if (this.closing !== null) {
      throw new Error(`Queue connection "${this.connection}" is closed: open a new one with the queue manager.`)
    }
    this.producer ??= new RedisLink(this.options.url, { maxRetriesPerRequest: PRODUCER_RETRIES, label: 'producer' }, this.logger)
    return this.producer
  }

  private queue(name: string): Queue {
    if (this.closing !== null) {
      throw new Error(`Queue connection "${this.connection}" is closed: open a new one with the queue manager.`)
    }
    let queue = this.queues.get(name)
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.producerLink().redis, prefix: this.options.prefix })
      // A lost connection reaches the caller of the command as the error naming Redis.
      queue.on('error', (error) =>
        isConnectionError(error) ? this.logger.debug(`BullMQ queue "${name}": ${errorMessage(error)}`) : this.logger.error(`BullMQ queue "${name}": ${errorMessage(error)}`),
      )
      this.queues.set(name, queue)
    }
    return queue
  }

  /**
   * BullMQ requires Workers' connections to retry commands forever rather than fail them: the
   * consumer watches the connection itself, and gives up after the reconnect policy's time.
   */
  private workers(): RedisLink {
    this.workerConnection ??= new RedisLink(this.options.url, { maxRetriesPerRequest: null, label: 'worker' }, this.logger)
    return this.workerConnection
  }

  /**
   * Redis evicting keys under memory pressure would silently delete jobs. Checked once, from
   * INFO (readable where CONFIG is disabled, as on many managed Redis services).
   */
  private async warnIfEvicting(): Promise<void> {
    if (this.evictionChecked) return
    this.evictionChecked = true
    try {
      const info = await this.workers().redis.info('memory')
      const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1]
      if (policy !== undefined && policy !== 'noeviction') {
        this.logger.warn(
          `Redis at ${redactUrl(this.options.url)} has maxmemory-policy "${policy}": it may evict queued jobs under memory pressure. ` +
            'Set "maxmemory-policy noeviction" in redis.conf (or CONFIG SET maxmemory-policy noeviction).',
        )
      }
    } catch (error) {
      this.logger.debug(`Could not read Redis's maxmemory-policy: ${errorMessage(error)}`)
    }
  }
}

/** The envelope's uuid (a valid BullMQ id) and display name; garbage is stored as it is. */
function identify(payload: string): { uuid: string | undefined; name: string } {
  try {
    const envelope = JSON.parse(payload) as { uuid?: unknown; displayName?: unknown } | null
    const uuid = typeof envelope?.uuid === 'string' && UUID.test(envelope.uuid) ? envelope.uuid : undefined
    const name = typeof envelope?.displayName === 'string' ? envelope.displayName : 'job'
    return { uuid, name }
  } catch {
    return { uuid: undefined, name: 'job' }
  }
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0)
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@')
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

export function createDriver(name: string, config: QueueConnectionConfig, context: QueueDriverContext): QueueDriver {
  if (config.driver !== 'bullmq') throw new Error(`Queue connection "${name}" is not a bullmq connection.`)
  return new BullmqDriver(name, {
    logger: context.logger,
    url: config.url,
    prefix: config.prefix,
    lockDuration: config.lockDuration,
    stalledInterval: config.stalledInterval,
    priorities: config.priorities ?? false,
    failedJobs: () => context.failedJobs(),
  })
}
