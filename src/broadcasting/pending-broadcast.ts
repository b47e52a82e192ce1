import { currentSocketId, excludeSocket } from './socket-context.ts'

/**
 * What `broadcast(event)` returns, Laravel's PendingBroadcast: the event is dispatched (its
 * listeners run and it is broadcast) once the current synchronous code is done, or when
 * awaited, whichever comes first; `toOthers()` before then leaves out the socket of the
 * request being handled.
 *
 * ```ts
 * await broadcast(new OrderShipped(order)).toOthers()
 * ```
 */
export class PendingBroadcast implements PromiseLike<unknown[]> {
  private started: Promise<unknown[]> | null = null

  constructor(
    private readonly event: object,
    private readonly dispatch: (event: object) => Promise<unknown[]>,
  ) {
    // Like Laravel's destructor: a broadcast that nobody awaits still goes out. Its failure is
    // then an unhandled rejection, as with any dispatch nobody awaits.
    queueMicrotask(() => void this.start())
  }

  /**
   * Leaves out of the delivery the socket whose id came in the current request's
   * `X-Socket-ID` header (Echo sends it), so the tab that made the change does not get its own
   * broadcast. Outside a request, or without the header, everyone gets it.
   */
  toOthers(): this {
    if (this.started !== null) throw new Error('toOthers() must be called before the broadcast is awaited.')
    excludeSocket(this.event, currentSocketId())
    return this
  }

  then<R1 = unknown[], R2 = never>(
    onFulfilled?: ((value: unknown[]) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.start().then(onFulfilled, onRejected)
  }

  private start(): Promise<unknown[]> {
    // A dispatch that throws before returning its promise rejects it instead.
    this.started ??= new Promise<unknown[]>((resolve) => resolve(this.dispatch(this.event)))
    return this.started
  }
}
