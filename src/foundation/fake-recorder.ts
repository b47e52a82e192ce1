import { testAssertionError } from './assertion.ts'

/**
 * Where a fake installs itself in place of the real work: the dispatcher, the queue manager,
 * the broadcast manager. Each holds one interceptor of its own kind `I`, or none.
 */
export interface FakeHost<I> {
  readonly currentInterceptor: I | null
  intercept(interceptor: I | null): void
}

/** How a fake lists what it recorded under a failed assertion's message. */
export interface RecordListing<R> {
  /** The whole list when nothing was recorded: `No events were dispatched.` */
  readonly empty: string
  /** The heading, which the count follows: `Dispatched events` gives `Dispatched events (3):`. */
  readonly heading: string
  /** One recorded item, on one line. */
  line(record: R): string
  /** Ends a list cut at its first 20 items with `… and N more`. Default true. */
  readonly countsLeftOut?: boolean
}

/** A fake's class, as `restoreFakes` and the facades' helpers name it. */
export type FakeClass<F> = abstract new (...args: never[]) => F

const LISTED = 20

/** Every fake still installed, of every kind, oldest first. */
const installed = new Set<object>()

/**
 * The shape every fake shares (`Event.fake()`, `Queue.fake()`, `Broadcast.fake()`): it takes
 * the place of the host's interceptor, records what reaches it in `records`, fails assertions
 * with an AssertionError whose message lists the records and whose stack starts at the test,
 * and `restore()` (or `using`) puts the host back as it was. A subclass implements the host's
 * interceptor interface `I` and calls `install()` once its own fields are set.
 */
export abstract class FakeRecorder<R, I> implements Disposable {
  protected readonly records: R[] = []
  private previous: I | null = null

  protected constructor(
    private readonly host: FakeHost<I>,
    private readonly listing: RecordListing<R>,
  ) {}

  /** Puts the host back as it was before this fake. Idempotent. */
  restore(): void {
    if (!installed.delete(this)) return
    // Restored out of order: the fake installed after this one skips it when it is restored.
    if (!this.isCurrent()) return
    // Each fake in the chain sat on this same host, so what it replaced is an `I` too.
    let previous: unknown = this.previous
    while (previous instanceof FakeRecorder && !installed.has(previous)) previous = previous.previous
    this.host.intercept(previous as I | null)
  }

  [Symbol.dispose](): void {
    this.restore()
  }

  /** Takes the host's interceptor's place; the one it replaces comes back on `restore()`. */
  protected install(this: FakeRecorder<R, I> & I): void {
    this.previous = this.host.currentInterceptor
    this.host.intercept(this)
    installed.add(this)
  }

  private isCurrent(): boolean {
    const current: unknown = this.host.currentInterceptor
    return current === this
  }

  /** Throws `message`, followed by the list of what was recorded. */
  protected fail(message: string): never {
    throw testAssertionError(`${message}\n${this.listRecords()}`)
  }

  private listRecords(): string {
    const { records, listing } = this
    if (records.length === 0) return listing.empty
    const lines = records.slice(0, LISTED).map((record) => `  - ${listing.line(record)}`)
    const leftOut = records.length - LISTED
    const more = leftOut > 0 && listing.countsLeftOut !== false ? `\n  … and ${leftOut} more` : ''
    return `${listing.heading} (${records.length}):\n${lines.join('\n')}${more}`
  }
}

/** Restores every installed fake of `kind`, newest first: for a test setup's `afterEach`. */
export function restoreFakes(kind: FakeClass<{ restore(): void }>): void {
  for (const fake of [...installed].reverse()) if (fake instanceof kind) fake.restore()
}

/** Restores the fakes of `kind` installed on `host`, newest first, down to its real interceptor. */
export function restoreFakesOn(host: FakeHost<unknown>, kind: FakeClass<{ restore(): void }>): void {
  let fake = host.currentInterceptor
  while (fake instanceof kind) {
    fake.restore()
    if (host.currentInterceptor === fake) break
    fake = host.currentInterceptor
  }
}

/**
 * The fake of `kind` installed on `host`, for a facade's `assert*` call; without one the error
 * names the call to make first: `Event.assertDispatched() needs a fake: call Event.fake() first.`
 */
export function installedFake<F>(host: FakeHost<unknown>, kind: FakeClass<F>, facade: string, method: string): F {
  const fake = host.currentInterceptor
  if (!(fake instanceof kind)) throw new Error(`${facade}.${method}() needs a fake: call ${facade}.fake() first.`)
  return fake
}
