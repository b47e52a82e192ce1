import { existsSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import createExpress, { type Express, type NextFunction, type Request, type Response, type Router } from 'express'
import type { ChannelRegistry } from '../broadcasting/channel-registry.ts'
import type { UserResolver } from '../broadcasting/contracts.ts'
import { defaultUserResolver } from '../broadcasting/default-user-resolver.ts'
import { OriginPolicy } from '../broadcasting/allowed-origins.ts'
import { createInternalBroadcastRouter } from '../broadcasting/internal-endpoint.ts'
import { socketIdMiddleware } from '../broadcasting/socket-context.ts'
import { EchoServer, type EchoServerOptions } from '../broadcasting/socket-server.ts'
import { signingKey } from '../foundation/app-key.ts'
import type { Application } from '../foundation/application.ts'
import { formBody, jsonBody } from './body-parsers.ts'
import { broadcastingAuthRoute } from './broadcasting-auth-route.ts'
import { csrfProtection } from './csrf.ts'
import { healthRoute } from './health.ts'
import { opsAccess } from './ops-access.ts'
import { requestContext } from './request-context.ts'
import { withAfterResponse } from '../jobs/after-response.ts'
import { securityHeaders } from './security-headers.ts'
import { HttpError, ValidationError } from './http-error.ts'
import type { RouteRegistrar } from './routes.ts'
import { named } from './route-table.ts'
import { ViewFactory } from './views.ts'
import { errorMessage } from '../foundation/error-message.ts'

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
  /** Where the application's routes go: before the 404 and error handlers, which `listen()` adds last. */
  readonly routes: Router
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
 * queue workers' broadcasts reach this server's clients (`POST /_herald/broadcast`). Every
 * response carries the security headers of config/http.ts (see security-headers.ts).
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
  // First, so that every answer carries them: pages, assets, the 404 and error pages, the API.
  express.use(securityHeaders(app.config.get('http').headers, app.config.get('app').url.startsWith('https:')))
  // Echo's X-Socket-ID, so that broadcast(event).toOthers() in a request leaves the sender out.
  express.use(socketIdMiddleware())
  // A correlation id (and, with tracing on, a span) per request, for what it dispatches.
  express.use(requestContext(() => (app.bound('events.tracing') ? app.make('events.tracing') : null)))
  // Jobs dispatched with dispatchAfterResponse() run once the response is sent (or the client left).
  express.use((_request, response, next) =>
    withAfterResponse(next, (run) => {
      let ran = false
      const once = () => {
        if (ran) return
        ran = true
        run()
      }
      response.once('finish', once)
      response.once('close', once)
    }),
  )
  const server = createServer(express)
  const { allowedOrigins, limits } = app.config.get('broadcasting')
  const echo = new EchoServer({
    httpServer: server,
    channels: options.channels,
    resolveUser,
    adapter: options.adapter,
    path: options.path,
    cors: options.cors,
    allowedOrigins,
    limits,
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
    named('json', jsonBody()),
    named('form', formBody()),
    named('broadcastingAuth', broadcastingAuthRoute(options.channels, resolveUser, new OriginPolicy(allowedOrigins ?? []), echo.limits.channelNameLength)),
  )
  const ops = opsAccess(app.config.get('ops'))
  express.get('/health', named('ops:health', ops.guard('health')), named('health', healthRoute(app)))
  if (app.bound('events.metrics')) {
    const metrics = app.make('events.metrics')
    express.get(app.config.get('events').metrics.path, named('ops:metrics', ops.guard('metrics')), async function scrapeMetrics(_request: Request, response: Response) {
      const { contentType, body } = await metrics.scrape()
      response.type(contentType).send(body)
    })
  }
  const routes = createExpress.Router()
  express.use(routes)
  // The 404 and error handlers go last, when the kernel starts listening: routes added to
  // `kernel.express` before then still come before them.
  let finished = false
  const finish = () => {
    if (finished) return
    finished = true
    express.use((request: Request, _response: Response, next: NextFunction) => next(new HttpError(404, `No route for ${request.method} ${request.path}.`)))
    express.use(errorResponses(app))
  }

  let closing: Promise<void> | null = null
  const kernel: HttpKernel = {
    express,
    routes,
    server,
    echo,
    listen: (port, host) => {
      finish()
      return listen(server, port, host)
    },
    close() {
      // socket.io closes the HTTP server it is attached to, waiting for its connections.
      closing ??= drained(server, () => echo.close())
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
  await loadApplicationRoutes(app, kernel)
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

/**
 * Closes the server without waiting on keep-alive clients: a client that keeps sending requests
 * on its connection (a poller, a browser) would hold the close, and a restart, forever. From now
 * on each response says `Connection: close`, and connections left idle are closed until the
 * server is.
 */
function drained(server: HttpServer, close: () => Promise<void>): Promise<void> {
  server.prependListener('request', (_request, response) => {
    if (!response.headersSent) response.setHeader('connection', 'close')
  })
  const idle = setInterval(() => server.closeIdleConnections(), 50)
  return close().finally(() => clearInterval(idle))
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

/** Where an application's routes live, relative to its base path. */
const ROUTE_FILES = ['app/http/routes.ts', 'app/http/routes.js']

/**
 * Serves the application's web side: static files from app/public, handlebars views from
 * app/views (`response.render`), and the routes of app/http/routes.ts in their `web` and `api`
 * groups.
 */
async function loadApplicationRoutes(app: Application, kernel: HttpKernel): Promise<void> {
  const publicDir = app.path('app/public')
  if (existsSync(publicDir)) kernel.routes.use(createExpress.static(publicDir, { index: false }))
  const viewsDir = app.path('app/views')
  if (existsSync(viewsDir)) {
    const views = new ViewFactory({ root: viewsDir, cache: app.config.get('app').env === 'production' })
    kernel.express.engine('hbs', (file, data, done) => {
      try {
        const { settings: _settings, _locals, cache: _cache, ...locals } = data as Record<string, unknown>
        done(null, views.renderFile(file, locals))
      } catch (error) {
        done(error)
      }
    })
    kernel.express.set('views', viewsDir)
    kernel.express.set('view engine', 'hbs')
  }
  const file = ROUTE_FILES.map((name) => app.path(name)).find((path) => existsSync(path))
  if (file === undefined) return
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown }
  if (typeof module.default !== 'function') throw new Error(`${file} must export default defineRoutes(({ web, api }) => { ... }).`)
  const { cookies } = app.config.get('http')
  const csrf = csrfProtection({ key: signingKey(app.config.get('app'), app.logger), secure: cookies.secure, sameSite: cookies.sameSite })
  // Named for `artisan route:list`, which lists each route's middleware.
  const web = groupRouter([named('form', formBody()), named('json', jsonBody()), named('csrf', csrf)])
  const api = groupRouter([named('json', jsonBody())])
  await (module.default as RouteRegistrar)({ web, api, app })
  kernel.routes.use('/api', api)
  kernel.routes.use(web)
}

type Middleware = (request: Request, response: Response, next: NextFunction) => void

/**
 * A router whose routes each run `middleware` first, as a Laravel middleware group: a request
 * that matches none of its routes passes through untouched (a POST elsewhere is not refused
 * for its CSRF token, it reaches its own route or the 404).
 */
function groupRouter(middleware: Middleware[]): Router {
  const router = createExpress.Router()
  for (const method of ['get', 'post', 'put', 'patch', 'delete', 'options', 'head', 'all'] as const) {
    const add = router[method].bind(router) as (path: unknown, ...handlers: unknown[]) => Router
    ;(router as unknown as Record<string, unknown>)[method] = (path: unknown, ...handlers: unknown[]) => add(path, ...middleware, ...handlers)
  }
  return router
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/**
 * Errors as the client wants them: JSON `{ message }` (with `errors` for a 422), or a short
 * HTML page for a browser. A client's error (4xx) says what was wrong; anything else is
 * logged and hidden (500).
 */
function errorResponses(app: Application) {
  return (error: unknown, request: Request, response: Response, _next: NextFunction): void => {
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500
    if (status >= 500) app.logger.error(`${request.method} ${request.path} failed: ${error instanceof Error ? error.stack : String(error)}`)
    const message = status >= 500 ? 'Server error.' : errorMessage(error)
    response.status(status)
    if (request.accepts(['json', 'html']) === 'html' && !request.is('json')) {
      response.type('html').send(`<!doctype html><meta charset="utf-8"><title>${status}</title><h1>${status}</h1><p>${escapeHtml(message)}</p>`)
      return
    }
    response.json(error instanceof ValidationError ? { message, errors: error.errors } : { message })
  }
}
