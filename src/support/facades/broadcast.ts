import { AnonymousBroadcast, type ChannelLike } from '../../broadcasting/anonymous-broadcast.ts'
import { BroadcastFake, type BroadcastPredicate, type BroadcastTarget, type ChannelTarget } from '../../broadcasting/broadcast-fake.ts'
import type { BroadcastManager, RecordedBroadcast } from '../../broadcasting/broadcast-manager.ts'
import type { ChannelCallback, BroadcastDriver, UserResolver } from '../../broadcasting/contracts.ts'
import { PendingBroadcast } from '../../broadcasting/pending-broadcast.ts'
import { currentSocketId } from '../../broadcasting/socket-context.ts'
import { isShouldBroadcast } from '../../events/contracts.ts'
import { facadeRoot } from '../application-root.ts'

function manager(): BroadcastManager {
  return facadeRoot().make('broadcast')
}

function currentFake(method: string): BroadcastFake {
  const fake = manager().currentInterceptor
  if (!(fake instanceof BroadcastFake)) throw new Error(`Broadcast.${method}() needs a fake: call Broadcast.fake() first.`)
  return fake
}

/**
 * The `Broadcast` facade: channel authorization, the application's broadcast connections,
 * and a fake for tests.
 *
 * ```ts
 * // app/channels.ts
 * Broadcast.channel('orders.{orderId}', (user, orderId) => user.id === ownerOf(orderId))
 *
 * // a test
 * using fake = Broadcast.fake()
 * await OrderShipped.dispatch(1)
 * Broadcast.assertBroadcast(OrderShipped, new PrivateChannel('orders.1'))
 * ```
 */
export const Broadcast = {
  /**
   * Registers who may subscribe to private and presence channels matching `pattern` (named
   * without the `private-`/`presence-` prefix; `{param}` matches one dot-free segment).
   */
  /**
   * An anonymous broadcast: `Broadcast.on('orders').as('OrderShipped').with({ id }).sendNow()`
   * (or `.send()` through the queue), for messages that need no event class.
   */
  on(...channels: (ChannelLike | ChannelLike[])[]): AnonymousBroadcast {
    return new AnonymousBroadcast(channels.flat(), (eventName, event) => manager().broadcast(eventName, event))
  },
  /** Says who the user of a socket or a request is: `Broadcast.resolveUsersWith((request) => …)`. */
  resolveUsersWith(resolver: UserResolver): void {
    facadeRoot().make('broadcast.channels').resolveUsersWith(resolver)
  },

  channel(pattern: string, callback: ChannelCallback): void {
    facadeRoot().make('broadcast.channels').channel(pattern, callback)
  },
  /** A connection's driver (the default connection when no name is given). */
  connection(name?: string): Promise<BroadcastDriver> {
    return manager().connection(name)
  },
  /** The socket id of the request being handled (its `X-Socket-ID` header), or null. */
  socket(): string | null {
    return currentSocketId()
  },
  /** Records broadcasts instead of delivering or queueing them; listeners still run. */
  fake(): BroadcastFake {
    return new BroadcastFake(manager())
  },
  /** Removes every broadcast fake. */
  restore(): void {
    const broadcasts = manager()
    let fake = broadcasts.currentInterceptor
    while (fake instanceof BroadcastFake) {
      fake.restore()
      if (broadcasts.currentInterceptor === fake) break
      fake = broadcasts.currentInterceptor
    }
  },
  assertBroadcast<E = unknown>(target: BroadcastTarget, channel?: ChannelTarget | BroadcastPredicate<E>, predicate?: BroadcastPredicate<E>): void {
    currentFake('assertBroadcast').assertBroadcast(target, channel, predicate)
  },
  assertBroadcastTimes(target: BroadcastTarget, times: number): void {
    currentFake('assertBroadcastTimes').assertBroadcastTimes(target, times)
  },
  assertNotBroadcast<E = unknown>(target: BroadcastTarget, channel?: ChannelTarget | BroadcastPredicate<E>, predicate?: BroadcastPredicate<E>): void {
    currentFake('assertNotBroadcast').assertNotBroadcast(target, channel, predicate)
  },
  assertNothingBroadcast(): void {
    currentFake('assertNothingBroadcast').assertNothingBroadcast()
  },
  /** The recorded broadcasts of `target` (on `channel`, passing `predicate`). */
  broadcasts<E = unknown>(target: BroadcastTarget, channel?: ChannelTarget | BroadcastPredicate<E>, predicate?: BroadcastPredicate<E>): RecordedBroadcast[] {
    return currentFake('broadcasts').broadcasts(target, channel, predicate)
  },
}

/**
 * Dispatches a ShouldBroadcast event (listeners run, the event is broadcast), Laravel's
 * `broadcast(new E)`; chain `.toOthers()` to leave out the socket of the current request.
 *
 * ```ts
 * await broadcast(new MessagePosted(message)).toOthers()
 * ```
 */
export function broadcast(event: object): PendingBroadcast {
  if (!isShouldBroadcast(event)) {
    const name = (event as { constructor?: { name?: string } }).constructor?.name ?? typeof event
    throw new TypeError(`broadcast(${name}): the event is not a broadcast event; declare it with extends ShouldBroadcast(...) or ShouldBroadcastNow(...).`)
  }
  return new PendingBroadcast(event, (e) => facadeRoot().make('events').dispatch(e))
}
