import { METHODS } from 'node:http'
import type { Express } from 'express'

/** One route of the web side, as `artisan route:list` shows it. */
export interface ListedRoute {
  /** GET, POST, … (GET routes answer HEAD too, as express does). */
  readonly methods: readonly string[]
  readonly path: string
  /** The route's own middleware, in order, by name (`json`, `csrf`, …). */
  readonly middleware: readonly string[]
  /** The handler function's name, `closure` for an anonymous one. */
  readonly handler: string
  /** @internal The handler itself, to find the file that exports it. */
  readonly fn: Function
}

/** What this file reads of express's router (router 2): layers with a route, or a mounted router. */
interface Layer {
  readonly name?: string
  /** A route's layer: the method it answers (lower case). */
  readonly method?: string
  readonly handle: Function & { readonly stack?: readonly Layer[] }
  readonly rawPath?: unknown
  readonly route?: { readonly path: unknown; readonly methods: Readonly<Record<string, boolean>>; readonly stack: readonly Layer[] }
}

/**
 * Names a middleware function for `route:list` (express lists functions by their `name`), and
 * returns it.
 *
 * ```ts
 * router.post('/orders', named('csrf', csrfProtection(options)), storeOrder)
 * ```
 */
export function named<F extends Function>(name: string, fn: F): F {
  Object.defineProperty(fn, 'name', { value: name, configurable: true })
  return fn
}

function functionName(fn: Function): string {
  return fn.name === '' || fn.name === '<anonymous>' ? 'closure' : fn.name.replace(/^bound /, '')
}

/** A route's methods; `router.all()` registers every method node knows: that is `ANY`. */
function methodsOf(methods: Readonly<Record<string, boolean>>): string[] {
  const names = Object.keys(methods).filter((method) => methods[method])
  if (names.includes('_all') || names.length >= METHODS.length) return ['ANY']
  return names.map((method) => method.toUpperCase())
}

function pathText(path: unknown): string {
  if (typeof path === 'string') return path
  if (path instanceof RegExp) return path.toString()
  if (Array.isArray(path)) return path.map(pathText).join(' | ')
  return String(path)
}

function joined(prefix: string, path: string): string {
  const full = `${prefix.replace(/\/+$/, '')}${path === '/' && prefix !== '' && prefix !== '/' ? '' : path}`
  return full === '' ? '/' : full
}

/**
 * Every route of an express application, mounted routers included (their prefix put in front),
 * in the order express tries them.
 */
export function listRoutes(express: Express): ListedRoute[] {
  const router = (express as unknown as { router: { stack: readonly Layer[] } }).router
  const routes: ListedRoute[] = []
  const walk = (stack: readonly Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route !== undefined) {
        // `all()` adds each handler once per method: the handlers of the first method are all of them.
        const first = layer.route.stack[0]?.method
        const handlers = layer.route.stack.filter((entry) => entry.method === first).map((entry) => entry.handle)
        const fn = handlers[handlers.length - 1]!
        const methods = methodsOf(layer.route.methods)
        routes.push({ methods, path: joined(prefix, pathText(layer.route.path)), middleware: handlers.slice(0, -1).map(functionName), handler: functionName(fn), fn })
      } else if (Array.isArray(layer.handle.stack)) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''
        walk(layer.handle.stack, joined(prefix, mount) === '/' ? '' : joined(prefix, mount))
      }
    }
  }
  walk(router.stack, '')
  return routes
}
