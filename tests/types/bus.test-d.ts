/**
 * Type tests for chains, batches and Bus.fake() (issue 16): predicates see the job class's own
 * type, callbacks are jobs (a function is a compile error as well as a run-time one), and a
 * chain takes jobs and batches only. Run by vitest's typecheck mode (not executed).
 */
import { describe, expectTypeOf, test } from 'vitest'
import { Bus, Job, type Batch, type BusFake, type FakeBatch, type PendingBatch, type PendingChain } from 'herald'

class ImportCsv extends Job {
  constructor(readonly importId: number) {
    super()
  }
  handle() {}
}

class Notify extends Job {
  handle() {}
}

describe('Bus', () => {
  test('chain and batch take jobs; callbacks are jobs', () => {
    expectTypeOf(Bus.chain([new ImportCsv(1), new Notify()])).toEqualTypeOf<PendingChain>()
    expectTypeOf(Bus.chain([new ImportCsv(1), Bus.batch([new Notify()])]).catch(new Notify()).dispatch()).toEqualTypeOf<Promise<string>>()
    expectTypeOf(Bus.batch([new ImportCsv(1)])).toEqualTypeOf<PendingBatch>()
    expectTypeOf(Bus.batch([new ImportCsv(1)]).then(new Notify()).allowFailures().name('x').dispatch()).toEqualTypeOf<Promise<Batch>>()
    // @ts-expect-error a callback is a job, not a function
    Bus.chain([new ImportCsv(1)]).catch(() => undefined)
    // @ts-expect-error a callback is a job, not a function
    Bus.batch([new ImportCsv(1)]).finally(() => undefined)
    // @ts-expect-error only jobs (and batches) in a chain
    Bus.chain([{ handle() {} }])
  })

  test('the fake: predicates get the job type', () => {
    expectTypeOf(Bus.fake()).toEqualTypeOf<BusFake>()
    Bus.assertDispatched(ImportCsv, (job) => {
      expectTypeOf(job).toEqualTypeOf<ImportCsv>()
      return job.importId === 1
    })
    Bus.assertBatched((batch) => {
      expectTypeOf(batch).toEqualTypeOf<FakeBatch>()
      return batch.jobs.length === 3
    })
    // @ts-expect-error importId is a number
    Bus.assertDispatched(ImportCsv, (job) => job.importId === 'one')
  })
})
