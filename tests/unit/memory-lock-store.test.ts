import { describe, expect, it, vi } from 'vitest'
import { MemoryLockStore } from 'herald'

describe('MemoryLockStore (unique locks under Queue.fake())', () => {
  it('gives a key to one of many concurrent takers, releases only for its owner, expires', async () => {
    const store = new MemoryLockStore()
    const won = await Promise.all(Array.from({ length: 10 }, (_, n) => store.acquire('k', `o${n}`, 0)))
    expect(won.filter(Boolean)).toHaveLength(1)
    const winner = `o${won.indexOf(true)}`
    expect(await store.release('k', 'someone')).toBe(false)
    expect(await store.owner('k')).toBe(winner)
    expect(await store.release('k', winner)).toBe(true)
    expect(await store.owner('k')).toBeNull()

    expect(await store.acquire('t', 'a', 0.05)).toBe(true)
    expect(await store.acquire('t', 'b', 0.05)).toBe(false)
    await vi.waitFor(async () => expect(await store.acquire('t', 'b', 0)).toBe(true), { timeout: 2_000, interval: 10 })
    expect(await store.release('t', 'a')).toBe(false)
    await store.forceRelease('t')
    expect(await store.owner('t')).toBeNull()
  })
})
