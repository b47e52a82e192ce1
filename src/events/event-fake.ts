import { inspect } from 'node:util'
import { testAssertionError } from '../foundation/assertion.ts'
import { FakeRecorder, restoreFakes } from '../foundation/fake-recorder.ts'
import { eventClassName } from './dispatchable.ts'
import { isWildcard, wildcardMatcher } from './wildcard.ts'
import type { Dispatcher } from './dispatcher.ts'
import type { DispatchInterceptor } from './dispatch-contracts.ts'
import type { EventClass, EventKey, KnownEventName, EventsList } from './types.ts'

/** One dispatch the fake saw. */
export interface RecordedDispatch {
  readonly name: string
  readonly event: unknown
  /** False when the event was let through to its real listeners (`fake([only])`, `fakeExcept`). */
  readonly faked: boolean
}

/** What `Event.fake()` takes: fake only these events, or every event but these. */
export interface FakeOptions {
  readonly only?: readonly EventKey[]
  readonly except?: readonly EventKey[]
}

/** The payload type an assertion's predicate receives for key K. */
export type FakePayload<K> = K extends EventClass<infer E> ? E : K extends KnownEventName ? EventsList[K] : unknown

/** Restores every fake still installed; the test setup calls it after each test. */
export function restoreAllFakes(): void {
  restoreFakes(EventFake)
}

function matcher(key: EventKey): (record: RecordedDispatch) => boolean {
  if (typeof key === 'function') {
    const name = eventClassName(key)
    return (record) => record.name === name || (typeof record.event === 'object' && record.event instanceof key)
  }
  if (isWildcard(key)) {
    const matches = wildcardMatcher(key)
    return (record) => matches(record.name)
  }
  return (record) => record.name === key
}

function label(key: EventKey): string {
  return typeof key === 'function' ? eventClassName(key) : key
}

function show(value: unknown): string {
  return inspect(value, { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 80 })
}

/**
 * Records dispatches instead of running listeners, Laravel's `Event::fake()`. Assertions
 * throw node's AssertionError whose message lists what was dispatched.
 *
 * ```ts
 * using fake = Event.fake()
 * await placeOrder()
 * fake.assertDispatched(OrderPlaced, (e) => e.orderId === 1)
 * ```
 */
export class EventFake extends FakeRecorder<RecordedDispatch, DispatchInterceptor> implements DispatchInterceptor {
  private readonly only: ((record: RecordedDispatch) => boolean)[] | null
  private readonly except: ((record: RecordedDispatch) => boolean)[]

  constructor(
    private readonly dispatcher: Dispatcher,
    options: FakeOptions = {},
  ) {
    super(dispatcher, {
      empty: 'No events were dispatched.',
      heading: 'Dispatched events',
      line: (record) => `${record.name} ${show(record.event)}${record.faked ? '' : ' (not faked)'}`,
    })
    this.only = options.only && options.only.length > 0 ? options.only.map(matcher) : null
    this.except = (options.except ?? []).map(matcher)
    this.install()
  }

  /** @internal Called by the dispatcher for every dispatch while installed. */
  intercept(name: string, event: unknown): boolean {
    const probe = { name, event, faked: false }
    const faked =
      (this.only === null || this.only.some((m) => m(probe))) && !this.except.some((m) => m(probe))
    this.records.push({ name, event, faked })
    return faked
  }

  /** Every dispatch seen so far, in order. */
  get recorded(): readonly RecordedDispatch[] {
    return this.records
  }

  /** The dispatched events (or payloads) of `key` that pass `predicate`. */
  dispatched<K extends EventKey>(key: K, predicate?: (event: FakePayload<K>) => boolean): FakePayload<K>[] {
    const matches = matcher(key)
    return this.records
      .filter((record) => matches(record) && (!predicate || predicate(record.event as FakePayload<K>)))
      .map((record) => record.event as FakePayload<K>)
  }

  /** True when `key` was dispatched at least once. */
  hasDispatched(key: EventKey): boolean {
    return this.records.some(matcher(key))
  }

  /**
   * Asserts `key` was dispatched: at least once, exactly `times` times, or at least once
   * passing `predicate`.
   */
  assertDispatched<K extends EventKey>(key: K, predicateOrTimes?: ((event: FakePayload<K>) => boolean) | number): void {
    if (typeof predicateOrTimes === 'number') {
      this.assertDispatchedTimes(key, predicateOrTimes)
      return
    }
    if (this.dispatched(key, predicateOrTimes).length > 0) return
    const all = this.dispatched(key).length
    const why = predicateOrTimes
      ? `${all} "${label(key)}" dispatched, none passed the predicate.`
      : 'It was not dispatched.'
    this.fail(`Expected "${label(key)}" to be dispatched${predicateOrTimes ? ' matching the predicate' : ''}. ${why}`)
  }

  /** Asserts `key` was dispatched exactly `times` times. */
  assertDispatchedTimes(key: EventKey, times: number): void {
    const count = this.dispatched(key).length
    if (count !== times) {
      this.fail(`Expected "${label(key)}" to be dispatched ${times} time(s), but it was dispatched ${count} time(s).`)
    }
  }

  /** Asserts `key` was dispatched exactly once. */
  assertDispatchedOnce(key: EventKey): void {
    this.assertDispatchedTimes(key, 1)
  }

  /** Asserts `key` was not dispatched (or that none passed `predicate`). */
  assertNotDispatched<K extends EventKey>(key: K, predicate?: (event: FakePayload<K>) => boolean): void {
    const count = this.dispatched(key, predicate).length
    if (count > 0) {
      this.fail(
        `Expected "${label(key)}" not to be dispatched${predicate ? ' matching the predicate' : ''}, but it was dispatched ${count} time(s).`,
      )
    }
  }

  /** Asserts no event at all was dispatched. */
  assertNothingDispatched(): void {
    if (this.records.length > 0) {
      this.fail(`Expected no events to be dispatched, but ${this.records.length} were.`)
    }
  }

  /** Asserts `listener` (a class or function) is registered for `key`. */
  assertListening(key: EventKey, listener: unknown): void {
    const listeners = this.dispatcher.getListeners(key)
    if (listeners.some((registered) => registered.listener === listener)) return
    const names = listeners.map((registered) => registered.name).join(', ') || 'none'
    const wanted = typeof listener === 'function' && listener.name ? listener.name : String(listener)
    throw testAssertionError(`Expected "${wanted}" to be listening for "${label(key)}". Its listeners: ${names}.`)
  }
}
