/**
 * Type tests: a job marked ShouldBeUnique is still a Job class: its dispatch takes its
 * constructor's arguments, it must implement handle(), and UniqueJobOptions checks its options.
 */
import { describe, expectTypeOf, test } from 'vitest'
import { Job, PendingDispatch, ShouldBeUnique, ShouldBeUniqueUntilProcessing, WithoutOverlapping, type JobMiddleware, type UniqueJobOptions } from 'herald'

class UpdateSearchIndex extends ShouldBeUnique(Job) implements UniqueJobOptions {
  uniqueFor = 60
  constructor(readonly productId: number) {
    super()
  }
  uniqueId() {
    return this.productId
  }
  middleware(): JobMiddleware[] {
    return [new WithoutOverlapping(`product-${this.productId}`).releaseAfter(5).expireAfter(60)]
  }
  handle() {}
}

class RefreshFeed extends ShouldBeUniqueUntilProcessing(Job) {
  handle() {}
}

describe('unique jobs', () => {
  test('dispatch takes the constructor arguments and resolves to the id (or "" when dropped)', () => {
    expectTypeOf(UpdateSearchIndex.dispatch(7)).toEqualTypeOf<PendingDispatch<UpdateSearchIndex>>()
    expectTypeOf(RefreshFeed.dispatch()).toEqualTypeOf<PendingDispatch<RefreshFeed>>()
    // @ts-expect-error the constructor takes a number
    void UpdateSearchIndex.dispatch('seven')
  })

  test('a unique job must still implement handle(), and its options are checked', () => {
    // @ts-expect-error handle() is missing
    class NoHandle extends ShouldBeUnique(Job) {}
    void NoHandle
    class BadFor extends ShouldBeUnique(Job) implements UniqueJobOptions {
      // @ts-expect-error uniqueFor is seconds
      uniqueFor = 'an hour'
      handle() {}
    }
    void BadFor
  })
})
