import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Which browser tab made the current request: Laravel Echo sends its socket id in the
 * `X-Socket-ID` header of every request, and `broadcast(event).toOthers()` leaves that socket
 * out of the delivery. The HTTP kernel runs each request inside `withSocketId`, so the id is
 * known anywhere down the request's async calls without passing it around.
 */

const requests = new AsyncLocalStorage<string | null>()
/** Events that `toOthers()` marked, with the socket to leave out. A WeakMap: nothing is added to the event's data. */
const excluded = new WeakMap<object, string>()

/** socket.io ids are short base64url strings; anything else in the header is ignored. */
const SOCKET_ID = /^[\w-]{1,64}$/

function normalise(id: string | readonly string[] | null | undefined): string | null {
  const value = Array.isArray(id) ? id[0] : id
  return typeof value === 'string' && SOCKET_ID.test(value) ? value : null
}

/**
 * Runs `fn` with `id` as the current request's socket id (a malformed id counts as none).
 *
 * ```ts
 * withSocketId(req.get('X-Socket-ID'), () => handle(req, res))
 * ```
 */
export function withSocketId<T>(id: string | readonly string[] | null | undefined, fn: () => T): T {
  return requests.run(normalise(id), fn)
}

/** The socket id of the request being handled, or null outside a request or without the header. */
export function currentSocketId(): string | null {
  return requests.getStore() ?? null
}

/**
 * Express-style middleware that runs the rest of the request inside `withSocketId`, reading
 * the `X-Socket-ID` header.
 */
export function socketIdMiddleware(): (
  request: { readonly headers: Readonly<Record<string, string | string[] | undefined>> },
  response: unknown,
  next: () => void,
) => void {
  return (request, _response, next) => withSocketId(request.headers['x-socket-id'], next)
}

/** @internal Marks `event` to be broadcast to every socket but `socketId`. */
export function excludeSocket(event: object, socketId: string | null): void {
  if (socketId === null) excluded.delete(event)
  else excluded.set(event, socketId)
}

/** @internal The socket `toOthers()` left out of this event's broadcast, if any. */
export function excludedSocket(event: object): string | null {
  return excluded.get(event) ?? null
}
