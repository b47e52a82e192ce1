/**
 * A bounded set of recently seen ids (insertion order, oldest dropped first): what the local
 * driver suppresses duplicate deliveries with, in one process.
 *
 * ```ts
 * const seen = new RecentlySeen(10_000)
 * if (seen.add(message.id)) await handle(message) // false: seen already
 * ```
 */
export class RecentlySeen {
  private readonly ids = new Set<string>()

  constructor(private readonly capacity: number) {}

  /** Adds `id`; false when it was there already. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false
    this.ids.add(id)
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string)
    return true
  }

  /** Forgets `id`, so that it can be handled again (its handling failed). */
  delete(id: string): void {
    this.ids.delete(id)
  }
}
