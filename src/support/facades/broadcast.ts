import { AnonymousBroadcast, type ChannelLike } from '../../broadcasting/anonymous-broadcast.ts'
import { BroadcastFake, type BroadcastPredicate, type BroadcastTarget, type ChannelTarget } from '../../broadcasting/broadcast-fake.ts'
import type { BroadcastManager, RecordedBroadcast } from '../../broadcasting/broadcast-manager.ts'
import type { ChannelCallback, BroadcastDriver, UserResolver } from '../../broadcasting/contracts.ts'
import { PendingBroadcast } from '../../broadcasting/pending-broadcast.ts'
import { currentSocketId } from '../../broadcasting/socket-context.ts'
import { isShouldBroadcast } from '../../events/contracts.ts'
import { installedFake, restoreFakesOn } from '../../foundation/fake-recorder.ts'
import { facadeRoot } from '../application-root.ts'

function manager(): BroadcastManager {
  return facadeRoot().make('broadcast')
}

function currentFake(method: string): BroadcastFake {
  return installedFake(manager(), BroadcastFake, 'Broadcast', method)
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
   * An anonymous broadcast, for a message that needs no event class (Laravel 11's
   * `Broadcast::on(...)`): `send()` goes through the queue, `sendNow()` at once.
   *
   * ```ts
   * await Broadcast.on('dashboard').as('job.processed').with({ id: 5, status: 'DONE' }).sendNow()
   * await Broadcast.on(new PrivateChannel(`orders.${userId}`)).as('OrderShipped').with({ id }).toOthers().send()
   * ```
   */
  on(...channels: (ChannelLike | ChannelLike[])[]): AnonymousBroadcast {
    return new AnonymousBroadcast(channels.flat(), (eventName, event) => manager().broadcast(eventName, event))
  },

  /**
   * Says who the user of a socket or a request is (null for a guest), for the channel
   * callbacks.
   *
   * ```ts
   * Broadcast.resolveUsersWith(async ({ cookies }) => sessions.user(cookies.session))
   * ```
   */
  resolveUsersWith(resolver: UserResolver): void {
    facadeRoot().make('broadcast.channels').resolveUsersWith(resolver)
  },

  /**
   * Registers who may subscribe to private and presence channels matching `pattern` (named
   * without the `private-`/`presence-` prefix; `{param}` matches one dot-free segment, passed
   * as a string). A presence channel's callback returns the member's info.
   *
   * ```ts
   * Broadcast.channel('orders.{userId}', (user, userId) => String(user.id) === userId)
   * Broadcast.channel('chat.{roomId}', (user) => ({ id: user.id, name: user.name }))
   * ```
   */
  channel(pattern: string, callback: ChannelCallback): void {
    facadeRoot().make('broadcast.channels').channel(pattern, callback)
  },

  /**
   * A connection's driver (the default connection when no name is given).
   *
   * ```ts
   * const driver = await Broadcast.connection('log')
   * await driver.deliver({ channels: ['orders'], event: 'OrderShipped', data: { id: 1 } })
   * ```
   */
  connection(name?: string): Promise<BroadcastDriver> {
    return manager().connection(name)
  },

  /**
   * The socket id of the request being handled (its `X-Socket-ID` header), or null.
   *
   * ```ts
   * const socketId = Broadcast.socket()   // the socket that `toOthers()` leaves out
   * ```
   */
  socket(): string | null {
    return currentSocketId()
  },

  /**
   * Records broadcasts instead of delivering or queueing them; the event's listeners still run.
   * `using` puts the real broadcasting back at the end of the block.
   *
   * ```ts
   * using fake = Broadcast.fake()
   * await OrderShipped.dispatch(1)
   * fake.assertBroadcast(OrderShipped, new PrivateChannel('orders.1'), (e: OrderShipped) => e.orderId === 1)
   * ```
   */
  fake(): BroadcastFake {
    return new BroadcastFake(manager())
  },

  /**
   * Removes every broadcast fake and puts the real broadcasting back.
   *
   * ```ts
   * Broadcast.fake()
   * Broadcast.restore()
   * await OrderShipped.dispatch(1)   // delivered again
   * ```
   */
  restore(): void {
    restoreFakesOn(manager(), BroadcastFake)
  },

  /**
   * Asserts `target` (an event class, its name, or its `broadcastAs()` name) was broadcast: at
   * all, on `channel` (a Channel or its wire name), and passing `predicate` (given the event
   * and the recorded broadcast). The AssertionError lists what was broadcast.
   *
   * ```ts
   * using fake = Broadcast.fake()
   * await OrderShipped.dispatch(1)
   * Broadcast.assertBroadcast(OrderShipped)
   * Broadcast.assertBroadcast(OrderShipped, new PrivateChannel('orders.1'), (e: OrderShipped) => e.orderId === 1)
   * Broadcast.assertBroadcast('order.shipped', 'orders')
   * Broadcast.assertBroadcast(OrderShipped, (e: OrderShipped, recorded) => recorded.message.data.orderId === e.orderId)
   * ```
   */
  assertBroadcast<E = unknown>(target: BroadcastTarget, channel?: ChannelTarget | BroadcastPredicate<E>, predicate?: BroadcastPredicate<E>): void {
    currentFake('assertBroadcast').assertBroadcast(target, channel, predicate)
  },

  /**
   * Asserts `target` was broadcast exactly `times` times.
   *
   * ```ts
   * Broadcast.assertBroadcastTimes(OrderShipped, 1)
   * ```
   */
  assertBroadcastTimes(target: BroadcastTarget, times: number): void {
    currentFake('assertBroadcastTimes').assertBroadcastTimes(target, times)
  },

  /**
   * Asserts `target` was not broadcast (on `channel`, passing `predicate`).
   *
   * ```ts
   * Broadcast.assertNotBroadcast(OrderCancelled)
   * Broadcast.assertNotBroadcast(OrderShipped, new PrivateChannel('orders.2'))
   * ```
   */
  assertNotBroadcast<E = unknown>(target: BroadcastTarget, channel?: ChannelTarget | BroadcastPredicate<E>, predicate?: BroadcastPredicate<E>): void {
    currentFake('assertNotBroadcast').assertNotBroadcast(target, channel, predicate)
  },

  /**
   * Asserts nothing at all was broadcast.
   *
   * ```ts
   * using fake = Broadcast.fake()
   * await OrderPlaced.dispatch(1)
   * Broadcast.assertNothingBroadcast()
   * ```
   */
  assertNothingBroadcast(): void {
    currentFake('assertNothingBroadcast').assertNothingBroadcast()
  },

  /**
   * The recorded broadcasts of `target` (on `channel`, passing `predicate`), each with its
   * event name, event and message (`channels`, `event`, `data`, `except`).
   *
   * ```ts
   * const [shipped] = Broadcast.broadcasts(OrderShipped, 'private-orders.1')
   * expect(shipped?.message.data.orderId).toBe(1)
   * ```
   */
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
