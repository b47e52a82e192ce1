import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import createExpress, { type Express, type NextFunction, type Request, type Response } from 'express'
import type { ChannelRegistry } from '../broadcasting/channel-registry.ts'
import type { UserResolver } from '../broadcasting/contracts.ts'
import { defaultUserResolver } from '../broadcasting/default-user-resolver.ts'
import { createInternalBroadcastRouter } from '../broadcasting/internal-endpoint.ts'
import { socketIdMiddleware } from '../broadcasting/socket-context.ts'
import { EchoServer, type EchoServerOptions } from '../broadcasting/socket-server.ts'
import type { Application } from '../foundation/application.ts'
import { broadcastingAuthRoute } from './broadcasting-auth-route.ts'

export interface HttpKernelOptions {
  /** The channel authorization callbacks (app/channels.ts), used by the socket server and `/broadcasting/auth`. */
  channels: ChannelRegistry
  /** Who the user of a socket or a request is. Default: {@link defaultUserResolver}, a placeholder that trusts bearer tokens. */
  resolveUser?: UserResolver
  /** A socket.io adapter (the Redis adapter of the `redis` broadcast connection). */
  adapter?: EchoServerOptions['adapter']
  /** socket.io's path. Default `/socket.io`. */
  path?: string
  /** socket.io's CORS settings. */
  cors?: EchoServerOptions['cors']
  /**
   * The key that signs broadcasts other processes (queue workers on the socketio connection)
   * post to this server. Default: APP_KEY from the application's config, read when the kernel
   * is created (so create it after `app.boot()`).
   */
  broadcastKey?: string | null
}

export interface HttpKernel {
  readonly express: Express
  /** The one HTTP server express and socket.io share. */
  readonly server: HttpServer
  readonly echo: EchoServer
  /** Starts listening; port 0 picks a free port, which the result names. */
  listen(port: number, host?: string): Promise<{ port: number }>
  /** Closes socket.io, its clients and the HTTP server. Idempotent; also run by `app.shutdown()`. */
  close(): Promise<void>
}

/**
 * The web side of an application: express and the socket.io server Laravel Echo connects to,
 * on one HTTP server, with `POST /broadcasting/auth` and the signed endpoint through which
 * queue workers' broadcasts reach this server's clients (`POST /_herald/broadcast`).
 *
 * ```ts
 * const kernel = createHttpKernel(app, { channels })
 * const { port } = await kernel.listen(3000)
 * await kernel.echo.deliver({ channels: ['orders'], event: 'OrderPlaced', data: { id: 1 } })
 * ```
 */
export function createHttpKernel(app: Application, options: HttpKernelOptions): HttpKernel {
  const resolveUser = options.resolveUser ?? defaultUserResolver
  const express = createExpress()
  express.disable('x-powered-by')
  // Echo's X-Socket-ID, so that broadcast(event).toOthers() in a request leaves the sender out.
  express.use(socketIdMiddleware())
  const server = createServer(express)
  const echo = new EchoServer({
    httpServer: server,
    channels: options.channels,
    resolveUser,
    adapter: options.adapter,
    path: options.path,
    cors: options.cors,
    // Read at each message: boot replaces the logger once .env is loaded.
    logger: {
      debug: (message) => app.logger.debug(message),
      info: (message) => app.logger.info(message),
      warn: (message) => app.logger.warn(message),
      error: (message) => app.logger.error(message),
    },
  })
  // Before any body parser: the signature covers the raw bytes.
  const broadcastKey = options.broadcastKey === undefined ? app.config.get('broadcasting').key : options.broadcastKey
  express.use(createInternalBroadcastRouter(echo, broadcastKey))
  express.post(
    '/broadcasting/auth',
    createExpress.json(),
    createExpress.urlencoded({ extended: false }),
    broadcastingAuthRoute(options.channels, resolveUser),
  )
  express.use(jsonErrors(app))

  let closing: Promise<void> | null = null
  const kernel: HttpKernel = {
    express,
    server,
    echo,
    listen: (port, host) => listen(server, port, host),
    close() {
      // socket.io closes the HTTP server it is attached to, waiting for its connections.
      closing ??= echo.close()
      return closing
    },
  }
  app.onShutdown(() => kernel.close())
  return kernel
}

/**
 * The kernel wired to the application's broadcasting: its channel registry (app/channels.ts),
 * the Redis adapter when the `redis` connection is configured, and the broadcast manager
 * delivering to this server's clients directly. What `artisan serve` starts.
 */
export async function createApplicationHttpKernel(app: Application, options: Partial<HttpKernelOptions> = {}): Promise<HttpKernel> {
  const manager = app.make('broadcast')
  const adapter = options.adapter ?? (await manager.serverAdapter()) ?? undefined
  const channels = options.channels ?? app.make('broadcast.channels')
  const resolveUser = options.resolveUser ?? channels.userResolver ?? undefined
  const kernel = createHttpKernel(app, { ...options, channels, adapter, ...(resolveUser ? { resolveUser } : {}) })
  const detach = manager.attachServer(kernel.echo)
  const close = kernel.close.bind(kernel)
  return {
    ...kernel,
    close: () => {
      detach()
      return close()
    },
  }
}

function listen(server: HttpServer, port: number, host?: string): Promise<{ port: number }> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(new Error(`Cannot listen on ${host ?? '*'}:${port}: ${error.message}`, { cause: error }))
    server.once('error', failed)
    server.listen(port, host, () => {
      server.off('error', failed)
      resolve({ port: (server.address() as AddressInfo).port })
    })
  })
}

/** Errors as JSON `{ message }`: a malformed body is the client's (4xx), anything else is logged and hidden (500). */
function jsonErrors(app: Application) {
  return (error: unknown, request: Request, response: Response, _next: NextFunction): void => {
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500
    if (status >= 500) app.logger.error(`${request.method} ${request.path} failed: ${error instanceof Error ? error.stack : String(error)}`)
    const message = status >= 500 ? 'Server error.' : error instanceof Error ? error.message : String(error)
    response.status(status).json({ message })
  }
}
