import { relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Application } from '../../foundation/application.ts'
import { sourceFiles } from '../../events/discovery.ts'
import { createApplicationHttpKernel } from '../../http/http-kernel.ts'
import { listRoutes } from '../../http/route-table.ts'
import type { CommandHandler } from '../command.ts'
import { oneLine } from '../quote-input.ts'

/**
 * The functions app/http exports (controllers), each with its file and export name: how a
 * route's handler is named by where it lives. A file that fails to import is left out (the
 * route then shows the function's own name).
 */
async function exportedHandlers(app: Application): Promise<Map<Function, string>> {
  const handlers = new Map<Function, string>()
  for (const file of sourceFiles(app.path('app/http'))) {
    let module: Record<string, unknown>
    try {
      module = (await import(pathToFileURL(file).href)) as Record<string, unknown>
    } catch {
      continue
    }
    const shown = relative(app.path(), file).split(sep).join('/')
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === 'function' && !handlers.has(value)) handlers.set(value, `${shown}#${name === 'default' ? value.name || 'default' : name}`)
    }
  }
  return handlers
}

/**
 * `artisan route:list [--json]`: every HTTP route the server would serve, the framework's
 * (/health, /broadcasting/auth, …) and app/http/routes.ts's, in the order express tries them,
 * each with its methods, its own middleware and its handler (the controller file and export
 * when app/http exports it). Builds the web side without listening.
 */
const routeList: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('route:list needs the booted application')
  const kernel = await createApplicationHttpKernel(app)
  try {
    const controllers = await exportedHandlers(app)
    const routes = listRoutes(kernel.express).map(({ fn, ...route }) => ({ ...route, controller: controllers.get(fn) ?? null }))
    if (options.json) {
      output.json({ routes })
      return 0
    }
    output.table(
      ['Method', 'Path', 'Middleware', 'Handler'],
      routes.map((route) => [
        route.methods.join('|'),
        oneLine(route.path),
        route.middleware.length === 0 ? '-' : route.middleware.map(oneLine).join(', '),
        oneLine(route.controller ?? route.handler),
      ]),
    )
    return 0
  } finally {
    await kernel.close()
  }
}

export default routeList
