/**
 * An atomic lock store for locks that must hold across processes and machines: unique jobs
 * and WithoutOverlapping. A lock is a key held by one owner (a random token per taker) until
 * it is released by that owner, force-released, or its time to live runs out.
 */
export interface LockStore {
  /**
   * Takes `key` for `owner` when nobody holds it (or its holder's time ran out); false when it
   * is held. `ttlSeconds` 0 (or less) keeps it until it is released.
   */
  acquire(key: string, owner: string, ttlSeconds: number): Promise<boolean>
  /** Releases `key` if `owner` holds it (never another owner's lock); true when it did. */
  release(key: string, owner: string): Promise<boolean>
  /** Releases `key` whoever holds it. */
  forceRelease(key: string): Promise<void>
  /** Who holds `key` now, or null (an expired lock is held by nobody). */
  owner(key: string): Promise<string | null>
}

/**
 * Locks in this process's memory: what unique jobs use under `Queue.fake()`, so a test can see
 * a second dispatch dropped without touching a real store.
 */
export class MemoryLockStore implements LockStore {
  private readonly locks = new Map<string, { owner: string; expiresAt: number | null }>()

  // Each method checks and changes the map without an await between: two takers never both win.
  async acquire(key: string, owner: string, ttlSeconds: number): Promise<boolean> {
    if (this.holder(key) !== null) return false
    this.locks.set(key, { owner, expiresAt: ttlSeconds > 0 ? Date.now() + ttlSeconds * 1000 : null })
    return true
  }

  async release(key: string, owner: string): Promise<boolean> {
    if (this.holder(key) !== owner) return false
    this.locks.delete(key)
    return true
  }

  async forceRelease(key: string): Promise<void> {
    this.locks.delete(key)
  }

  async owner(key: string): Promise<string | null> {
    return this.holder(key)
  }

  private holder(key: string): string | null {
    const lock = this.locks.get(key)
    if (lock === undefined) return null
    if (lock.expiresAt !== null && lock.expiresAt <= Date.now()) {
      this.locks.delete(key)
      return null
    }
    return lock.owner
  }
}

/** `ttlSeconds` checked: a number of 0 or more (0: until released). */
export function checkTtl(ttlSeconds: number, what: string): number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds < 0) {
    throw new TypeError(`${what} must be a number of seconds, 0 or more (0: until released), got ${String(ttlSeconds)}.`)
  }
  return ttlSeconds
}
