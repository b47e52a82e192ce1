import { LazyConnections } from '../foundation/lazy-connections.ts'
import { isShouldBroadcastNow } from '../events/contracts.ts'
import { currentEventContext } from '../events/event-context.ts'
import type { Dispatcher } from '../events/dispatcher.ts'
import type { BroadcastGateway } from '../events/dispatch-contracts.ts'
import type { BroadcastConnectionConfig, BroadcastingConfig } from '../foundation/config.ts'
import { UserError } from '../foundation/errors.ts'
import type { Logger } from '../foundation/logger.ts'
import { broadcastMessage } from './broadcast-message.ts'
import type { BroadcastDelivery, BroadcastDriver, BroadcastMessage } from './contracts.ts'
import type { BroadcastDriverContext, BroadcastDriverModule, ClosableServerAdapter, ServerAdapter } from './driver-context.ts'
import { excludedSocket } from './socket-context.ts'

export type { ServerAdapter } from './driver-context.ts'

const driverModules: Record<BroadcastConnectionConfig['driver'], () => Promise<BroadcastDriverModule>> = {
  socketio: () => import('./drivers/socketio-driver.ts'),
  redis: () => import('./drivers/redis-driver.ts'),
  log: () => import('./drivers/log-driver.ts'),
  null: () => import('./drivers/null-driver.ts'),
}

/** What the manager needs of the queue: a ShouldBroadcast event's message goes there as a job. */
export interface BroadcastQueue {
  /** Queues the delivery of `message`; a worker hands it to its broadcast manager. */
  pushBroadcast(eventName: string, event: object, message: BroadcastMessage, queue: string | undefined): Promise<unknown>
}

/** One broadcast as `Broadcast.fake()` records it. */
export interface RecordedBroadcast {
  /** The event's name (class name or `static eventName`). */
  readonly eventName: string
  readonly event: object
  /** What would have been delivered: channels, `broadcastAs()` name, payload, excluded socket. */
  readonly message: BroadcastMessage
}

/** Installed by `Broadcast.fake()`: takes broadcasts instead of the drivers and the queue. */
export interface BroadcastInterceptor {
  record(broadcast: RecordedBroadcast): void
}

export interface BroadcastManagerDependencies {
  /** Read at each use: boot replaces the config once .env is loaded. */
  readonly config: () => BroadcastingConfig
  readonly events: () => Dispatcher
  readonly logger: () => Logger
}

/**
 * The broadcasting side of the dispatcher: turns a ShouldBroadcast event into a message
 * (channels, name, payload, the socket `toOthers()` left out) and sends it on a connection,
 * through the queue for ShouldBroadcast, at once for ShouldBroadcastNow. Connections open on
 * first use.
 *
 * A process that runs the socket.io server attaches it (`attachServer`); the socketio and redis
 * drivers then deliver to it directly, and only processes without one (queue workers) go
 * over HTTP or Redis.
 */
export class BroadcastManager implements BroadcastGateway, BroadcastDelivery {
  private readonly drivers = new LazyConnections<BroadcastDriver>((name) => this.open(name))
  private readonly adapters: ClosableServerAdapter[] = []
  private server: BroadcastDelivery | null = null
  private queue: BroadcastQueue | null = null
  private interceptor: BroadcastInterceptor | null = null
  /** True while a fake, not boot, connected this manager to the dispatcher. */
  private hookedForFake = false

  constructor(private readonly deps: BroadcastManagerDependencies) {}

  get defaultConnection(): string {
    return this.deps.config().default
  }

  /** APP_KEY, which signs broadcasts posted to the web server; null when unset. */
  get key(): string | null {
    return this.deps.config().key
  }

  /** The application's logger, for drivers. */
  get logger(): Logger {
    return this.deps.logger()
  }

  /** The settings of a connection, as config/broadcasting.ts gives them. */
  settings(name = this.defaultConnection): BroadcastConnectionConfig {
    const config = this.deps.config()
    const settings = config.connections[name]
    if (settings === undefined) {
      const known = Object.keys(config.connections).join(', ')
      throw new UserError(`Broadcast connection "${name}" is not configured in config/broadcasting.ts (known: ${known}).`)
    }
    return settings
  }

  /** The driver of a connection (the default one when no name is given). */
  connection(name = this.defaultConnection): Promise<BroadcastDriver> {
    return this.drivers.get(name)
  }

  /**
   * Tells the manager that this process runs the socket.io server: the socketio and redis
   * drivers deliver to it directly. Returns the function that detaches it again.
   *
   * ```ts
   * const detach = app.make('broadcast').attachServer(echoServer)
   * ```
   */
  attachServer(delivery: BroadcastDelivery): () => void {
    this.server = delivery
    return () => {
      if (this.server === delivery) this.server = null
    }
  }

  /** The socket.io server of this process, if one is attached. */
  get localServer(): BroadcastDelivery | null {
    return this.server
  }

  /** @internal The queue manager installs itself here, so ShouldBroadcast events are queued. */
  useQueue(queue: BroadcastQueue | null): void {
    this.queue = queue
  }

  /**
   * Broadcasts a ShouldBroadcast event (the dispatcher calls this): nothing when
   * `broadcastWhen()` is false, a queued job for ShouldBroadcast (on the default queue
   * connection, queue `broadcastQueue` or the connection's default), an immediate delivery for
   * ShouldBroadcastNow or when there is no queue. Nothing either while `event:replay` runs
   * (see {@link BroadcastManager.replaying}).
   */
  async broadcast(eventName: string, event: object): Promise<unknown> {
    if (this.replaying(eventName)) return undefined
    const message = broadcastMessage(eventName, event, excludedSocket(event))
    if (message === null) return undefined
    if (this.interceptor !== null) {
      this.interceptor.record({ eventName, event, message })
      return undefined
    }
    if (this.queue !== null && !isShouldBroadcastNow(event)) {
      const queue = (event as { broadcastQueue?: unknown }).broadcastQueue
      return this.queue.pushBroadcast(eventName, event, message, typeof queue === 'string' ? queue : undefined)
    }
    await this.deliver(message)
    return undefined
  }

  /** Delivers a message on a connection (the default one): what a worker does with a broadcast job. */
  async deliver(message: BroadcastMessage, connection?: string): Promise<void> {
    if (this.replaying(message.event)) return
    const driver = await this.connection(connection)
    await driver.deliver(message)
  }

  /**
   * The socket.io adapter a server of this connection needs, or null when the default
   * adapter does: the redis connection's shares rooms between servers through Redis, with the
   * connection's one prefix. The manager closes its Redis connections at shutdown.
   *
   * ```ts
   * const adapter = await app.make('broadcast').serverAdapter()
   * if (adapter) io.adapter(adapter)
   * ```
   */
  async serverAdapter(connection = this.defaultConnection): Promise<ServerAdapter | null> {
    const settings = this.settings(connection)
    const module = await driverModules[settings.driver]()
    if (module.createServerAdapter === undefined) return null
    const adapter = await module.createServerAdapter(settings, this.driverContext())
    this.adapters.push(adapter)
    return adapter
  }

  /**
   * @internal `Broadcast.fake()` installs itself here. A fake in an application that was never
   * booted (the bare one behind the facades in a plain unit test) connects the manager to the
   * dispatcher for as long as it is installed.
   */
  intercept(interceptor: BroadcastInterceptor | null): void {
    this.interceptor = interceptor
    const events = this.deps.events()
    if (interceptor !== null && events.currentBroadcaster === null) {
      events.useBroadcaster(this)
      this.hookedForFake = true
    } else if (interceptor === null && this.hookedForFake) {
      if (events.currentBroadcaster === this) events.useBroadcaster(null)
      this.hookedForFake = false
    }
  }

  get currentInterceptor(): BroadcastInterceptor | null {
    return this.interceptor
  }

  /** Closes every connection and server adapter opened. */
  async close(): Promise<void> {
    const adapters = this.adapters.splice(0)
    await this.drivers.closeAll(
      (driver) => driver.close(),
      'broadcast connections',
      adapters.map((adapter) => () => adapter.close()),
    )
  }

  /**
   * Replays broadcast nothing, whatever the path: the replayed event's own broadcast (the
   * dispatcher skips it), a ShouldBroadcast event a listener dispatches during the replay, an
   * anonymous `Broadcast.on(...)` a listener sends (a dashboard feed), a direct `deliver()`.
   * Checked here, where every one of them passes, rather than in each listener; a fake records
   * nothing either, so a test can assert it.
   */
  private replaying(name: string): boolean {
    if (currentEventContext()?.replaying !== true) return false
    this.deps.logger().debug(`Broadcast "${name}" dropped: nothing is broadcast while event:replay runs.`)
    return true
  }

  private async open(name: string): Promise<BroadcastDriver> {
    const settings = this.settings(name)
    const module = await driverModules[settings.driver]()
    return module.createDriver(name, settings, this.driverContext())
  }

  /** What a driver gets of this manager: the few members drivers use, never the manager itself. */
  private driverContext(): BroadcastDriverContext {
    return {
      logger: () => this.logger,
      localServer: () => this.localServer,
      key: () => this.key,
    }
  }
}
