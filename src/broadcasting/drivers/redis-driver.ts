import { createAdapter } from '@socket.io/redis-adapter'
import { Emitter } from '@socket.io/redis-emitter'
import { Redis } from 'ioredis'
import type { BroadcastConnectionConfig } from '../../foundation/config.ts'
import { createLogger, type Logger } from '../../foundation/logger.ts'
import type { BroadcastDriver, BroadcastMessage } from '../contracts.ts'
import type { BroadcastDriverContext, ClosableServerAdapter } from '../driver-context.ts'
import { errorMessage } from '../../foundation/error-message.ts'

type RedisConnectionConfig = Extract<BroadcastConnectionConfig, { driver: 'redis' }>

/**
 * The Redis key (the channel prefix) of the socket.io adapter and the emitter. Both sides call
 * this with the connection's one `prefix` setting (BROADCAST_PREFIX), so a worker's emitter
 * and the servers' adapters cannot disagree and drop every message.
 */
export function redisKey(config: RedisConnectionConfig): string {
  return config.prefix
}

function redisClient(config: RedisConnectionConfig, role: string, logger: Logger): Redis {
  const client = new Redis(config.url, { connectionName: `${redisKey(config)}:${role}` })
  // Without a listener a connection error would be an uncaught 'error' event.
  client.on('error', (error: Error) => logger.warn(`Broadcast Redis ${role} connection (${config.url}): ${error.message}`))
  return client
}

async function quit(client: Redis): Promise<void> {
  if (client.status === 'end') return
  try {
    await client.quit()
  } catch {
    client.disconnect()
  }
}

/**
 * The socket.io adapter for every server of a redis connection: rooms are shared through
 * Redis, so a broadcast to a room reaches the clients of every server, and the emitter of a
 * process without a server reaches them all too. Pass it to `io.adapter(...)`; `close()`
 * quits its two Redis connections. Connection errors are logged as warnings (on stderr unless
 * `logger` says otherwise). The broadcast manager's `serverAdapter()` calls this.
 *
 * ```ts
 * const adapter = await createRedisAdapter(config.get('broadcasting').connections.redis!)
 * io.adapter(adapter)
 * ```
 */
export async function createRedisAdapter(
  config: BroadcastConnectionConfig,
  logger: Logger = createLogger('warn'),
): Promise<ClosableServerAdapter> {
  if (config.driver !== 'redis') throw new TypeError('createRedisAdapter() needs a redis broadcast connection.')
  const pub = redisClient(config, 'adapter-pub', logger)
  const sub = redisClient(config, 'adapter-sub', logger)
  try {
    // Connected before socket.io subscribes, so the first broadcasts are not published into a void.
    await Promise.all([ready(pub), ready(sub)])
  } catch (error) {
    await Promise.all([quit(pub), quit(sub)])
    throw new Error(`The broadcast Redis adapter cannot reach ${config.url}: ${errorMessage(error)}`)
  }
  const create = createAdapter(pub, sub, { key: redisKey(config) })
  const opened: Array<{ close(): unknown }> = []
  // One adapter per socket.io namespace. Each is closed once, by socket.io or by close() below,
  // whichever comes first: closing unsubscribes without awaiting, so it must happen while the
  // connections are still open, or each unsubscribe becomes an unhandled rejection.
  // A function, not an arrow: socket.io calls it with `new`.
  const adapter = function (nsp: Parameters<typeof create>[0]) {
    const instance = create(nsp)
    const closeOnce = instance.close.bind(instance)
    let closed = false
    instance.close = () => {
      if (closed) return
      closed = true
      return closeOnce()
    }
    opened.push(instance)
    return instance
  }
  return Object.assign(adapter, {
    close: async () => {
      for (const instance of opened.splice(0)) await instance.close()
      await Promise.all([quit(pub), quit(sub)])
    },
  })
}

/** How long the adapter waits for Redis before the server's start fails. */
const CONNECT_TIMEOUT_MS = 10_000

function ready(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      clearTimeout(timer)
      client.off('ready', onReady)
      client.off('end', onEnd)
      if (error) reject(error)
      else resolve()
    }
    const onReady = () => settle()
    const onEnd = () => settle(new Error('the connection closed'))
    const timer = setTimeout(() => settle(new Error(`no connection after ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS)
    client.once('ready', onReady)
    client.once('end', onEnd)
  })
}

/**
 * Broadcasting through Redis, for several web servers. In a process that runs a socket.io
 * server (with the adapter above) a broadcast goes to that server, whose adapter fans it out;
 * in any other (a queue worker) the socket.io Redis emitter publishes it to every server.
 */
export class RedisDriver implements BroadcastDriver {
  private client: Redis | null = null

  constructor(
    readonly connection: string,
    private readonly config: RedisConnectionConfig,
    private readonly context: BroadcastDriverContext,
  ) {}

  async deliver(message: BroadcastMessage): Promise<void> {
    const server = this.context.localServer()
    if (server !== null) return server.deliver(message)
    const client = (this.client ??= redisClient(this.config, 'emitter', this.context.logger()))
    // The emitter publishes without returning the promise: collect them, to resolve once Redis
    // has taken every message (and to reject when it has not).
    const published: Promise<unknown>[] = []
    const emitter = new Emitter(
      { publish: (channel: string, payload: Buffer) => published.push(client.publish(channel, payload)) },
      { key: redisKey(this.config) },
    )
    try {
      // One emit per channel: Echo's clients filter on the channel name, the second argument.
      for (const channel of message.channels) {
        const room = emitter.to(channel)
        const target = message.except ? room.except(message.except) : room
        target.emit(message.event, channel, message.data)
      }
    } catch (error) {
      // e.g. a reserved event name; let what was already published settle first.
      await Promise.allSettled(published)
      throw error
    }
    await Promise.all(published)
  }

  async close(): Promise<void> {
    const client = this.client
    this.client = null
    if (client !== null) await quit(client)
  }
}

export function createDriver(name: string, config: BroadcastConnectionConfig, context: BroadcastDriverContext): BroadcastDriver {
  if (config.driver !== 'redis') throw new TypeError(`Connection "${name}" is not a redis connection.`)
  return new RedisDriver(name, config, context)
}

export function createServerAdapter(config: BroadcastConnectionConfig, context: BroadcastDriverContext): Promise<ClosableServerAdapter> {
  return createRedisAdapter(config, context.logger())
}
