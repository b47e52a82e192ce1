/**
 * Batches (issue 16) on every queue connection: sync, database (SQLite, PostgreSQL, MariaDB)
 * and BullMQ (Redis): the job_batches counts, then/catch/finally jobs, allowFailures,
 * cancelling, `this.batch().add()`, retrying a batch's failed jobs, and a batch finished by
 * four worker processes at once on PostgreSQL and on BullMQ with exact counts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { Bus, type Batch } from 'herald'
import { AddsSteps, CancelsBatch, Notify, Step, details, logged, stepProcesses } from '../fixtures/workflows/jobs.ts'
import { bootWorkflowCase, spawnWorkflowWorker, workflowCases, type BootedCase, type WorkerProcess } from '../support/workflow-case.ts'

const WAIT = { timeout: 20_000, interval: 50 }

async function finishedBatch(id: string): Promise<Batch> {
  const batch = await Bus.findBatch(id)
  if (batch === null || !batch.finished) throw new Error(`batch ${id} not finished yet: ${JSON.stringify(batch)}`)
  return batch
}

describe.each(workflowCases.map((driver) => [driver.name, driver] as const))('batches: %s', (_name, driver) => {
  let booted: BootedCase

  beforeAll(async () => {
    booted = await bootWorkflowCase(driver)
    booted.startWorker(['default', 'imports'])
  })
  afterEach(async () => {
    await booted.knex('workflow_log').delete()
    await booted.knex('workflow_fail').delete()
    await booted.knex('failed_jobs').delete()
  })
  afterAll(async () => {
    await booted?.close()
  })

  it('runs every job, counts them, then pushes then and finally (not catch)', async () => {
    const batch = await Bus.batch([new Step('a'), new Step('b'), new Step('c')])
      .then(new Notify('then'))
      .catch(new Notify('catch'))
      .finally(new Notify('finally'))
      .name('import')
      .onQueue('imports')
      .dispatch()
    expect(batch.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(batch).toMatchObject({ name: 'import', totalJobs: 3 })
    await vi.waitFor(async () => expect((await logged(booted.knex)).sort()).toEqual(['a', 'b', 'c', 'finally', 'then']), WAIT)
    const done = await finishedBatch(batch.id)
    expect(done.toJSON()).toMatchObject({ id: batch.id, name: 'import', totalJobs: 3, pendingJobs: 0, failedJobs: 0, processedJobs: 3, progress: 100, finished: true, cancelled: false })
    expect(done.createdAt).toBeInstanceOf(Date)
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.createdAt.getTime())
    // The callback job sees its batch.
    const [then] = (await details(booted.knex, 'then')) as Array<{ batch: { id: string; pendingJobs: number } }>
    expect(then!.batch).toMatchObject({ id: batch.id, pendingJobs: 0 })
  })

  it('on the first failure cancels the batch (later jobs skip their work), pushes catch with the failure and finally; retry-batch finishes it', async () => {
    await booted.knex('workflow_fail').insert({ label: 'b' })
    const batch = await Bus.batch([new Step('a'), new Step('b'), new Step('c')])
      .then(new Notify('then'))
      .catch(new Notify('catch'))
      .finally(new Notify('finally'))
      .dispatch()
    await vi.waitFor(async () => expect(await logged(booted.knex)).toEqual(['a', 'b:failed', 'catch', 'finally']), WAIT)
    const done = await finishedBatch(batch.id)
    expect(done).toMatchObject({ totalJobs: 3, pendingJobs: 1, failedJobs: 1, processedJobs: 2, progress: 67, cancelled: true })
    const [caught] = (await details(booted.knex, 'catch')) as Array<{ failure: { job: string; uuid: string; message: string } }>
    expect(caught!.failure).toMatchObject({ job: 'Step', message: 'step b failed' })
    expect(done.failedJobIds).toEqual([caught!.failure.uuid])
    expect((await (await booted.app.make('queue').failedJobs()).all()).map((row) => row.uuid)).toEqual([caught!.failure.uuid])

    await booted.knex('workflow_fail').delete()
    expect(await booted.app.make('bus.workflows').retryBatch(batch.id)).toBe(1)
    // The batch is cancelled, so the retried job skips its work, and counts as done: then runs.
    await vi.waitFor(async () => expect(await logged(booted.knex)).toEqual(['a', 'b:failed', 'catch', 'finally', 'then']), WAIT)
    expect(await Bus.findBatch(batch.id)).toMatchObject({ pendingJobs: 0, failedJobs: 1, failedJobIds: [] })
  })

  it('with allowFailures the other jobs run; catch once on the first failure, finally once all have run', async () => {
    await booted.knex('workflow_fail').insert([{ label: 'b' }, { label: 'c' }])
    const batch = await Bus.batch([new Step('a'), new Step('b'), new Step('c'), new Step('d')])
      .then(new Notify('then'))
      .catch(new Notify('catch'))
      .finally(new Notify('finally'))
      .allowFailures()
      .dispatch()
    // The catch job queues behind the batch's other jobs: compared sorted.
    await vi.waitFor(async () => expect((await logged(booted.knex)).sort()).toEqual(['a', 'b:failed', 'c:failed', 'catch', 'd', 'finally']), WAIT)
    expect(await finishedBatch(batch.id)).toMatchObject({ totalJobs: 4, pendingJobs: 2, failedJobs: 2, progress: 50, cancelled: false })
  })

  it('lets a job add jobs to its batch and cancel it', async () => {
    const batch = await Bus.batch([new AddsSteps(['x', 'y'])]).then(new Notify('then')).dispatch()
    await vi.waitFor(async () => expect((await logged(booted.knex)).sort()).toEqual(['added', 'then', 'x', 'y']), WAIT)
    expect(await details(booted.knex, 'added')).toEqual([{ total: 3, id: batch.id }])
    expect(await finishedBatch(batch.id)).toMatchObject({ totalJobs: 3, pendingJobs: 0 })

    await booted.knex('workflow_log').delete()
    const cancelled = await Bus.batch([new CancelsBatch(), new Step('skipped')]).finally(new Notify('finally')).dispatch()
    await vi.waitFor(async () => expect(await logged(booted.knex)).toEqual(['cancelled', 'finally']), WAIT)
    expect(await finishedBatch(cancelled.id)).toMatchObject({ cancelled: true, pendingJobs: 0, failedJobs: 0 })
  })

  it('takes jobs as callbacks: a function is one clear error; an unknown id finds nothing', async () => {
    expect(() => Bus.batch([new Step('a')]).then((() => undefined) as never)).toThrow(
      'Bus.batch(...).then() takes a job (e.g. new NotifyImportFailed(importId)), not a function: a function cannot travel to another worker process.',
    )
    expect(() => Bus.batch([new Step('a')]).finally((() => undefined) as never)).toThrow('Bus.batch(...).finally() takes a job')
    expect(await Bus.findBatch('no-such-batch')).toBeNull()
    // Awaited without dispatch(): the await says what is missing, and nothing is dispatched.
    await expect((async () => await (Bus.batch([new Step('a')]) as unknown as Promise<unknown>))()).rejects.toThrow(
      'A pending batch is not a promise: dispatch it (await Bus.batch([...]).dispatch()).',
    )
  })

  it('an empty batch is finished at once and pushes then and finally', async () => {
    const batch = await Bus.batch([]).then(new Notify('then')).finally(new Notify('finally')).dispatch()
    await vi.waitFor(async () => expect((await logged(booted.knex)).sort()).toEqual(['finally', 'then']), WAIT)
    expect(await finishedBatch(batch.id)).toMatchObject({ totalJobs: 0, progress: 100 })
  })
})

/**
 * Four worker processes finish one batch together: every success and failure is counted
 * exactly once (no lost update), and then/catch/finally are pushed exactly once.
 */
describe.each([
  ['database on PostgreSQL', { name: 'database on PostgreSQL', db: 'pgsql', queue: 'database' }],
  ['bullmq on Redis (batches on PostgreSQL)', { name: 'bullmq', db: 'pgsql', queue: 'bullmq' }],
] as const)('a batch finished by 4 worker processes: %s', (_name, driver) => {
  let booted: BootedCase
  const processes: WorkerProcess[] = []

  beforeAll(async () => {
    booted = await bootWorkflowCase(driver)
  })
  afterAll(async () => {
    await Promise.allSettled(processes.map((child) => child.stop()))
    await booted?.close()
  })

  it(
    'has exact counts',
    async () => {
      const TOTAL = 80
      const FAILING = 8
      await booted.knex('workflow_fail').insert(Array.from({ length: FAILING }, (_, i) => ({ label: `fail-${i}` })))
      const jobs = Array.from({ length: TOTAL }, (_, i) => new Step(i < FAILING ? `fail-${i}` : `ok-${i}`, 5))
      const batch = await Bus.batch(jobs).allowFailures().then(new Notify('then')).catch(new Notify('catch')).finally(new Notify('finally')).dispatch()
      for (let i = 0; i < 4; i++) processes.push(spawnWorkflowWorker(booted, 2))
      await Promise.all(processes.map((child) => child.ready))

      await vi.waitFor(async () => expect((await logged(booted.knex)).filter((label) => label === 'finally')).toHaveLength(1), { timeout: 60_000, interval: 100 })
      const done = await finishedBatch(batch.id)
      expect(done).toMatchObject({ totalJobs: TOTAL, pendingJobs: FAILING, failedJobs: FAILING, processedJobs: TOTAL - FAILING, cancelled: false })
      expect(done.failedJobIds).toHaveLength(FAILING)
      await Promise.all(processes.splice(0).map((child) => child.stop()))
      const labels = await logged(booted.knex)
      expect(labels.filter((label) => label.startsWith('ok-'))).toHaveLength(TOTAL - FAILING)
      // The work was shared: more than one process ran the batch's jobs.
      expect((await stepProcesses(booted.knex)).size).toBeGreaterThan(1)
      expect(labels.filter((label) => label.endsWith(':failed'))).toHaveLength(FAILING)
      expect(labels.filter((label) => label === 'catch')).toHaveLength(1)
      expect(labels.filter((label) => label === 'finally')).toHaveLength(1)
      expect(labels.filter((label) => label === 'then')).toHaveLength(0)

      // Retried, the failed ones succeed, and the batch's then job is pushed once.
      await booted.knex('workflow_fail').delete()
      for (let i = 0; i < 4; i++) processes.push(spawnWorkflowWorker(booted, 2))
      await Promise.all(processes.map((child) => child.ready))
      expect(await booted.app.make('bus.workflows').retryBatch(batch.id)).toBe(FAILING)
      await vi.waitFor(async () => expect(await Bus.findBatch(batch.id)).toMatchObject({ pendingJobs: 0, failedJobIds: [] }), { timeout: 60_000, interval: 100 })
      await vi.waitFor(async () => expect((await logged(booted.knex)).filter((label) => label === 'then')).toHaveLength(1), { timeout: 60_000, interval: 100 })
      await Promise.all(processes.splice(0).map((child) => child.stop()))
      expect((await logged(booted.knex)).filter((label) => label === 'then')).toHaveLength(1)
    },
    120_000,
  )
})
