/**
 * Chains (issue 16) on every queue connection: sync, database (SQLite, PostgreSQL, MariaDB)
 * and BullMQ (Redis). Each job runs only after the one before it succeeded; a failure stops
 * the chain and pushes the catch job (a job, told the failure); the failed job's failed_jobs
 * row carries the rest of the chain, so retrying it continues the chain.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { Bus } from 'herald'
import { Notify, Step, details, logged } from '../fixtures/workflows/jobs.ts'
import { bootWorkflowCase, workflowCases, type BootedCase } from '../support/workflow-case.ts'

describe.each(workflowCases.map((driver) => [driver.name, driver] as const))('chains: %s', (_name, driver) => {
  let booted: BootedCase

  beforeAll(async () => {
    booted = await bootWorkflowCase(driver)
    booted.startWorker(['default', 'chains'])
  })
  afterEach(async () => {
    await booted.knex('workflow_log').delete()
    await booted.knex('workflow_fail').delete()
    await booted.knex('failed_jobs').delete()
  })
  afterAll(async () => {
    await booted?.close()
  })

  async function failedRows() {
    return (await booted.app.make('queue').failedJobs()).all()
  }

  it('runs each job after the one before it succeeded, in order, on the chain queue', async () => {
    // Workers report the queue each job came from (the sync connection runs jobs in the dispatch, without a worker).
    const queues: string[] = []
    const remove = booted.app.make('queue').jobHooks.add('before', (job) => void queues.push(`${job.name}@${job.queue}`))
    try {
      const id = await Bus.chain([new Step('a', 30), new Step('b'), new Step('c', 10), new Step('d')]).onQueue('chains').dispatch()
      expect(typeof id).toBe('string')
      await vi.waitFor(async () => expect(await logged(booted.knex)).toEqual(['a', 'b', 'c', 'd']), { timeout: 15_000, interval: 50 })
      expect(await failedRows()).toEqual([])
      expect(queues).toEqual(driver.queue === 'sync' ? [] : ['Step@chains', 'Step@chains', 'Step@chains', 'Step@chains'])
    } finally {
      remove()
    }
  })

  it('stops at a failure, runs the catch job with the failure, and keeps the rest of the chain in failed_jobs; retrying continues it', async () => {
    await booted.knex('workflow_fail').insert({ label: 'b' })
    await Bus.chain([new Step('a'), new Step('b'), new Step('c')]).catch(new Notify('caught')).dispatch()
    await vi.waitFor(async () => expect(await logged(booted.knex)).toEqual(['a', 'b:failed', 'caught']), { timeout: 15_000, interval: 50 })
    const [caught] = (await details(booted.knex, 'caught')) as Array<{ failure: { job: string; uuid: string; message: string } }>
    expect(caught!.failure).toMatchObject({ job: 'Step', message: 'step b failed' })

    const rows = await failedRows()
    expect(rows).toHaveLength(1)
    const payload = JSON.parse(rows[0]!.payload) as { uuid: string; data: { payload: { v: { label: string } } }; bus: { chain: { jobs: Array<{ name: string; v: { label: string } }> } } }
    expect(payload.uuid).toBe(caught!.failure.uuid)
    expect(payload.data.payload.v.label).toBe('b')
    expect(payload.bus.chain.jobs.map((job) => [job.name, job.v.label])).toEqual([['Step', 'c']])
    // c never ran.
    expect(await logged(booted.knex)).not.toContain('c')

    await booted.knex('workflow_fail').delete()
    await booted.app.make('queue').retryFailedJob(rows[0]!)
    await vi.waitFor(async () => expect(await logged(booted.knex)).toEqual(['a', 'b:failed', 'caught', 'b', 'c']), { timeout: 15_000, interval: 50 })
    expect(await failedRows()).toEqual([])
  })

  it('runs a batch as a step: every job of it before the next step; its failure stops the chain and runs the catch job', async () => {
    await Bus.chain([new Step('a'), Bus.batch([new Step('b1'), new Step('b2'), new Step('b3')]).name('middle'), new Step('c')]).dispatch()
    await vi.waitFor(async () => expect(await logged(booted.knex)).toHaveLength(5), { timeout: 15_000, interval: 50 })
    const order = await logged(booted.knex)
    expect(order[0]).toBe('a')
    expect(order.slice(1, 4).sort()).toEqual(['b1', 'b2', 'b3'])
    expect(order[4]).toBe('c')
    const [batch] = await booted.knex('job_batches').where('name', 'middle').select('total_jobs', 'pending_jobs')
    expect(batch).toMatchObject({ total_jobs: 3, pending_jobs: 0 })

    await booted.knex('workflow_log').delete()
    await booted.knex('workflow_fail').insert({ label: 'b2' })
    await Bus.chain([Bus.batch([new Step('b1'), new Step('b2')]), new Step('c')]).catch(new Notify('caught')).dispatch()
    await vi.waitFor(async () => expect((await logged(booted.knex)).sort()).toEqual(['b1', 'b2:failed', 'caught']), { timeout: 15_000, interval: 50 })
    const [caught] = (await details(booted.knex, 'caught')) as Array<{ failure: { message: string } }>
    expect(caught!.failure.message).toBe('step b2 failed')
    // Once the batch is finished, a job queued behind it runs after anything the batch pushed: c never comes.
    await vi.waitFor(async () => expect(await booted.knex('job_batches').whereNull('finished_at').select('id')).toEqual([]), { timeout: 15_000, interval: 50 })
    await Bus.dispatch(new Step('end'))
    await vi.waitFor(async () => expect(await logged(booted.knex)).toContain('end'), { timeout: 15_000, interval: 50 })
    expect(await logged(booted.knex)).not.toContain('c')
  })

  it('takes jobs only: a function as catch, or a non-job in the list, is one clear error', () => {
    expect(() => Bus.chain([new Step('a')]).catch((() => undefined) as never)).toThrow(
      'Bus.chain(...).catch() takes a job (e.g. new NotifyImportFailed(importId)), not a function: a function cannot travel to another worker process.',
    )
    expect(() => Bus.chain([new Step('a'), { handle() {} } as never])).toThrow('Bus.chain(): item 1 is not a job (an instance of a class extending Job) or a Bus.batch([...]).')
  })
})
