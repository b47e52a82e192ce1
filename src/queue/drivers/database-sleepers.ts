/**
 * The consumers of one database queue in this process sleeping on an empty queue, and what
 * wakes them: a push, a settled job (a release may be due at once; a stopWhenEmpty loop waits
 * for jobs in hand), or the stop. A poll in another process is not seen: the sleep is capped.
 */
export class Sleepers {
  private readonly waiting = new Set<() => void>()
  /** Counts wake-ups, so a consumer can tell that one happened while it was polling. */
  private count = 0

  get wakes(): number {
    return this.count
  }

  /** Waits `ms`, or less when a wake-up or the stop comes first. */
  sleep(ms: number, stop: AbortSignal): Promise<void> {
    if (stop.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        stop.removeEventListener('abort', wake)
        this.waiting.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      stop.addEventListener('abort', wake, { once: true })
      this.waiting.add(wake)
    })
  }

  wake(): void {
    this.count++
    for (const wake of [...this.waiting]) wake()
  }
}
