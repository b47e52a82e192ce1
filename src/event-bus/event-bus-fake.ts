import { inspect } from 'node:util'
import { FakeRecorder, restoreFakes, type FakeHost } from '../foundation/fake-recorder.ts'
import { eventClassName } from '../events/dispatchable.ts'

/** One publish the fake recorded. */
export interface PublishedEvent {
  readonly name: string
  readonly event: unknown
}

/** Where the fake sits in the event bus: every publish is handed to it instead of the driver. */
export interface PublishInterceptor {
  record(published: PublishedEvent): void
}

/** What an assertion names: an event class, or an event name. */
export type PublishTarget = Function | string

function nameOf(target: PublishTarget): string {
  return typeof target === 'string' ? target : eventClassName(target)
}

/** Restores every event bus fake still installed (for a test setup's `afterEach`). */
export function restoreAllEventBusFakes(): void {
  restoreFakes(EventBusFake)
}

/**
 * Records what is published instead of sending it to the bus (no outbox, no subscription runs);
 * the local listeners of a ShouldPublish event still run.
 *
 * ```ts
 * using bus = EventBus.fake()
 * await OrderPlaced.dispatch(1)
 * bus.assertPublished(OrderPlaced, (event) => event.orderId === 1)
 * ```
 */
export class EventBusFake extends FakeRecorder<PublishedEvent, PublishInterceptor> implements PublishInterceptor {
  constructor(host: FakeHost<PublishInterceptor>) {
    super(host, {
      empty: 'No events were published.',
      heading: 'Published events',
      line: (record) => `${record.name} ${inspect(record.event, { depth: 2, breakLength: Infinity })}`,
    })
    this.install()
  }

  /** @internal */
  record(published: PublishedEvent): void {
    this.records.push(published)
  }

  /** The published events named by `target` that pass `predicate`. */
  published<E = unknown>(target: PublishTarget, predicate?: (event: E) => boolean): E[] {
    const name = nameOf(target)
    return this.records.filter((record) => record.name === name && (!predicate || predicate(record.event as E))).map((record) => record.event as E)
  }

  /** Asserts `target` was published: at least once, `times` times, or once passing `predicate`. */
  assertPublished<E = unknown>(target: PublishTarget, predicateOrTimes?: ((event: E) => boolean) | number): void {
    const name = nameOf(target)
    if (typeof predicateOrTimes === 'number') {
      const count = this.published(target).length
      if (count !== predicateOrTimes) this.fail(`Expected "${name}" to be published ${predicateOrTimes} time(s), but it was published ${count} time(s).`)
      return
    }
    if (this.published(target, predicateOrTimes).length === 0) {
      this.fail(predicateOrTimes ? `No published "${name}" event passed the predicate.` : `Expected "${name}" to be published, but it was not.`)
    }
  }

  /** Asserts `target` was not published (or none passing `predicate` was). */
  assertNotPublished<E = unknown>(target: PublishTarget, predicate?: (event: E) => boolean): void {
    const count = this.published(target, predicate).length
    if (count > 0) this.fail(`Expected "${nameOf(target)}" not to be published, but it was published ${count} time(s).`)
  }

  assertNothingPublished(): void {
    if (this.records.length > 0) this.fail(`Expected nothing to be published, but ${this.records.length} event(s) were.`)
  }
}
