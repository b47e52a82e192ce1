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

  it('takes jobs only: a function as catch, or a non-job in the list, is one clear error', () => {
    expect(() => Bus.chain([new Step('a')]).catch((() => undefined) as never)).toThrow(
      'Bus.chain(...).catch() takes a job (e.g. new NotifyImportFailed(importId)), not a function: a function cannot travel to another worker process.',
    )
    expect(() => Bus.chain([new Step('a'), { handle() {} } as never])).toThrow('Bus.chain(): item 1 is not a job (an instance of a class extending Job).')
  })
})
