import { AsyncLocalStorage } from 'node:async_hooks'

/** Work that waits for the response: what `dispatchAfterResponse` adds to, per request. */
const scopes = new AsyncLocalStorage<Array<() => unknown>>()

/**
 * Runs `next` (a request's handling) in a scope of its own; `finished` is called with a function
 * that runs what `afterResponse(...)` added, which the HTTP kernel calls once the response is sent.
 */
export function withAfterResponse(next: () => void, finished: (run: () => void) => void): void {
  const callbacks: Array<() => unknown> = []
  finished(() => {
    for (const callback of callbacks.splice(0)) callback()
  })
  scopes.run(callbacks, next)
}

/** Adds `callback` for after the current request's response; false outside a request (the caller runs it now). */
export function afterResponse(callback: () => unknown): boolean {
  const callbacks = scopes.getStore()
  if (callbacks === undefined) return false
  callbacks.push(callback)
  return true
}
