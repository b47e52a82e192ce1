import { inspect } from 'node:util'
import { eventClassName } from '../events/dispatchable.ts'
import { FakeRecorder, restoreFakes } from '../foundation/fake-recorder.ts'
import type { BroadcastInterceptor, BroadcastManager, RecordedBroadcast } from './broadcast-manager.ts'
import { Channel } from './channels.ts'

/** What an assertion names: an event class, or a name (the event's, or its `broadcastAs()` name). */
export type BroadcastTarget = Function | string

/** A channel as an assertion names it: a Channel, or its wire name (`private-orders.1`). */
export type ChannelTarget = Channel | string

export type BroadcastPredicate<E = unknown> = (event: E, broadcast: RecordedBroadcast) => boolean

/** Restores every broadcast fake still installed (for a test setup's afterEach). */
export function restoreAllBroadcastFakes(): void {
  restoreFakes(BroadcastFake)
}

function matches(target: BroadcastTarget, record: RecordedBroadcast): boolean {
  if (typeof target === 'string') return record.eventName === target || record.message.event === target
  return record.event instanceof target || record.eventName === eventClassName(target)
}

function label(target: BroadcastTarget): string {
  return typeof target === 'string' ? target : eventClassName(target)
}

function wire(channel: ChannelTarget): string {
  return channel instanceof Channel ? channel.wireName : channel
}

function describe(record: RecordedBroadcast): string {
  const { message } = record
  const as = message.event === record.eventName ? '' : ` as "${message.event}"`
  const except = message.except ? ` (except socket ${message.except})` : ''
  const data = inspect(message.data, { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 80 })
  return `${record.eventName}${as} on [${message.channels.join(', ')}] ${data}${except}`
}

/**
 * Records broadcasts instead of delivering or queueing them. The event's listeners still run
 * (fake the event itself with `Event.fake()`, and it is neither run nor broadcast).
 *
 * ```ts
 * using fake = Broadcast.fake()
 * await OrderShipped.dispatch(1)
 * fake.assertBroadcast(OrderShipped, new PrivateChannel('orders.1'), (e) => e.orderId === 1)
 * ```
 */
export class BroadcastFake extends FakeRecorder<RecordedBroadcast, BroadcastInterceptor> implements BroadcastInterceptor {
  constructor(manager: BroadcastManager) {
    super(manager, { empty: 'Nothing was broadcast.', heading: 'Broadcasts', line: describe })
    this.install()
  }

  /** @internal */
  record(broadcast: RecordedBroadcast): void {
    this.records.push(broadcast)
  }

  /** Every broadcast so far, in order. */
  get recorded(): readonly RecordedBroadcast[] {
    return this.records
  }

  /** The broadcasts of `target` (on `channel`, passing `predicate`). */
  broadcasts<E = unknown>(target: BroadcastTarget, channel?: ChannelTarget | BroadcastPredicate<E>, predicate?: BroadcastPredicate<E>): RecordedBroadcast[] {
    const [on, test] = typeof channel === 'function' ? [undefined, channel] : [channel, predicate]
    const name = on === undefined ? undefined : wire(on)
    return this.records.filter(
      (record) =>
        matches(target, record) &&
        (name === undefined || record.message.channels.includes(name)) &&
        (test === undefined || test(record.event as E, record)),
    )
  }

  /**
   * Asserts `target` was broadcast: at all, on `channel`, and passing `predicate` (given the
   * event and the recorded broadcast). `assertBroadcast(E, predicate)` works too.
   */
  assertBroadcast<E = unknown>(target: BroadcastTarget, channel?: ChannelTarget | BroadcastPredicate<E>, predicate?: BroadcastPredicate<E>): void {
    if (this.broadcasts(target, channel, predicate).length > 0) return
    const on = typeof channel === 'function' || channel === undefined ? undefined : wire(channel)
    const test = typeof channel === 'function' ? channel : predicate
    const all = this.broadcasts(target)
    const wanted = `Expected "${label(target)}" to be broadcast${on === undefined ? '' : ` on "${on}"`}${test ? ' matching the predicate' : ''}.`
    const why =
      all.length === 0
        ? 'It was not broadcast.'
        : on !== undefined && this.broadcasts(target, on).length === 0
          ? `It was broadcast ${all.length} time(s), never on "${on}".`
          : `It was broadcast ${all.length} time(s), none passed the predicate.`
    this.fail(`${wanted} ${why}`)
  }

  /** Asserts `target` was broadcast exactly `times` times. */
  assertBroadcastTimes(target: BroadcastTarget, times: number): void {
    const count = this.broadcasts(target).length
    if (count !== times) this.fail(`Expected "${label(target)}" to be broadcast ${times} time(s), but it was broadcast ${count} time(s).`)
  }

  /** Asserts `target` was not broadcast (on `channel`, passing `predicate`). */
  assertNotBroadcast<E = unknown>(target: BroadcastTarget, channel?: ChannelTarget | BroadcastPredicate<E>, predicate?: BroadcastPredicate<E>): void {
    const count = this.broadcasts(target, channel, predicate).length
    if (count === 0) return
    const on = typeof channel === 'function' || channel === undefined ? '' : ` on "${wire(channel)}"`
    const test = typeof channel === 'function' || predicate ? ' matching the predicate' : ''
    this.fail(`Expected "${label(target)}" not to be broadcast${on}${test}, but it was broadcast ${count} time(s).`)
  }

  /** Asserts nothing at all was broadcast. */
  assertNothingBroadcast(): void {
    if (this.records.length > 0) this.fail(`Expected nothing to be broadcast, but ${this.records.length} broadcast(s) were made.`)
  }
}
