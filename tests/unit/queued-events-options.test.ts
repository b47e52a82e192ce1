/**
 * A ShouldQueue event's queue options come from the dispatched instance: no instance is made
 * without arguments (issue 12, problem 6), and each kind of declaration is honoured.
 */
import { describe, expect, it } from 'vitest'
import { Dispatchable, ShouldQueue } from 'herald'
import { resolveEventQueueOptions } from '../../src/queue/queue-options.ts'

describe('resolveEventQueueOptions', () => {
  it('reads values set by the constructor, prototype getters, methods and arrow fields off each event', () => {
    let constructed = 0
    class Shipped extends ShouldQueue(Dispatchable) {
      readonly tries: number
      readonly backoff = (event: Shipped) => [event.weight]
      constructor(readonly weight: number) {
        super()
        constructed++
        if (weight > 10) this.tries = 5
        else this.tries = 1
      }
      get queue() {
        return this.weight > 10 ? 'heavy' : 'light'
      }
      timeout() {
        return this.weight * 2
      }
    }
    const light = new Shipped(3)
    const heavy = new Shipped(30)
    const options = resolveEventQueueOptions(light)
    expect(resolveEventQueueOptions(heavy)).toBe(options)
    expect(constructed).toBe(2)
    expect([options.tries(light), options.queue(light), options.timeout(light), options.backoff(light)]).toEqual([1, 'light', 6, [3]])
    expect([options.tries(heavy), options.queue(heavy), options.timeout(heavy), options.backoff(heavy)]).toEqual([5, 'heavy', 60, [30]])
    expect([options.connection(light), options.delay(light), options.maxExceptions(light), options.shouldQueue(light)]).toEqual([undefined, 0, null, true])
  })

  it('never constructs the event class itself, so a constructor that needs its arguments works', () => {
    class Needy extends ShouldQueue(Dispatchable) {
      readonly total: number
      constructor(readonly order: { total: number }) {
        super()
        this.total = order.total
      }
    }
    const event = new Needy({ total: 12 })
    expect(() => resolveEventQueueOptions(event)).not.toThrow()
    expect(resolveEventQueueOptions(event).tries(event)).toBeNull()
  })
})
