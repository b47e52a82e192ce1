import type { Router } from 'express'
import type { Application } from '../foundation/application.ts'

/**
 * The route groups app/http/routes.ts fills, as Laravel's routes/web.php and routes/api.php.
 * A group's middleware runs for the group's own routes only (`web.get`, `web.post`, …);
 * `web.use(...)` adds middleware for every request that reaches the group.
 */
export interface RouteGroups {
  /**
   * Pages and forms, mounted at `/`: JSON and form bodies parsed, CSRF-protected (a POST must
   * send the `_token` field or the `X-CSRF-TOKEN` header), `response.render(view, data)` for
   * the handlebars views in app/views.
   */
  readonly web: Router
  /** JSON endpoints for other programs, mounted at `/api`: JSON bodies, no CSRF token. */
  readonly api: Router
  readonly app: Application
}

/** What app/http/routes.ts exports by default. */
export type RouteRegistrar = (routes: RouteGroups) => void | Promise<void>

/**
 * Declares the application's routes (app/http/routes.ts):
 *
 * ```ts
 * export default defineRoutes(({ web, api }) => {
 *   web.get('/', (request, response) => response.render('dashboard', { title: 'Orders' }))
 *   api.post('/orders', placeOrder)
 * })
 * ```
 */
export function defineRoutes(registrar: RouteRegistrar): RouteRegistrar {
  return registrar
}
