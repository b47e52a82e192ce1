/**
 * Bus.fake() (issue 16): dispatches, chains and batches are recorded instead of queued, and
 * the assertions say what was dispatched; Queue.fake()'s assertChained / assertBatched read the
 * chain and batch fields of the pushed envelopes. SQLite in a temp folder (the batch row).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Bus, BusFake, Job, Migrator, Queue, bootApplication, type Application } from 'herald'
import { projectRoot } from '../support/project-copy.ts'

const ran: string[] = []

class ImportCsv extends Job {
  constructor(readonly importId: number) {
    super()
  }
  handle() {
    ran.push(`import ${this.importId}`)
  }
}
class IndexRows extends Job {
  constructor(readonly importId: number) {
    super()
  }
  handle() {
    ran.push(`index ${this.importId}`)
  }
}
class NotifyDone extends Job {
  static jobName = 'notify.done'
  handle() {
    ran.push('notify')
  }
}

let app: Application

beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'herald-bus-fake-'))
  app = await bootApplication({
    basePath: base,
    envFile: false,
    loadConfig: false,
    env: { LOG_LEVEL: 'silent', EVENTS_DISCOVERY: 'false', DB_CONNECTION: 'sqlite', DB_DATABASE: join(base, 'db.sqlite'), QUEUE_CONNECTION: 'sync' },
  })
  await new Migrator(await app.make('db').connection(), join(projectRoot, 'database', 'migrations')).latest()
})
afterAll(async () => {
  await app?.shutdown()
})

describe('Bus.fake()', () => {
  it('records dispatches instead of running them; assertDispatched by predicate and count, assertNotDispatched', async () => {
    using bus = Bus.fake()
    expect(bus).toBeInstanceOf(BusFake)
    await ImportCsv.dispatch(7)
    await Bus.dispatch(new ImportCsv(8)).onQueue('imports')
    expect(ran).toEqual([])
    Bus.assertDispatched(ImportCsv)
    Bus.assertDispatched(ImportCsv, 2)
    Bus.assertDispatched(ImportCsv, (job) => job.importId === 8)
    Bus.assertNotDispatched(IndexRows)
    Bus.assertNotDispatched(ImportCsv, (job) => job.importId === 9)
    expect(bus.dispatchedOf(ImportCsv).map((job) => job.importId)).toEqual([7, 8])
    expect(() => Bus.assertDispatched(ImportCsv, 3)).toThrow(/Expected "ImportCsv" to be dispatched 3 time\(s\), but it was dispatched 2 time\(s\)\.\nDispatched \(2\):\n {2}- ImportCsv \{ importId: 7 \}/)
    expect(() => Bus.assertDispatched(IndexRows)).toThrow('Expected "IndexRows" to be dispatched, but it was not.')
    expect(() => Bus.assertNotDispatched(ImportCsv)).toThrow('Expected "ImportCsv" not to be dispatched, but it was dispatched 2 time(s).')
    expect(() => Bus.assertNothingDispatched()).toThrow('Expected nothing to be dispatched, but 2 thing(s) were.')
  })

  it('records chains: assertChained by classes or instances, in order; the first job counts as dispatched', async () => {
    using bus = Bus.fake()
    Bus.assertNothingDispatched()
    await Bus.chain([new ImportCsv(1), new IndexRows(1), new NotifyDone()]).catch(new NotifyDone()).onQueue('imports').dispatch()
    Bus.assertChained([ImportCsv, IndexRows, NotifyDone])
    Bus.assertChained([new ImportCsv(1), new IndexRows(1), NotifyDone])
    Bus.assertDispatched(ImportCsv, 1)
    Bus.assertNotDispatched(IndexRows)
    expect(bus.chains[0]).toMatchObject({ queue: 'imports', catch: new NotifyDone() })
    expect(() => Bus.assertChained([ImportCsv, NotifyDone])).toThrow('Expected a chain [ImportCsv, notify.done] to be dispatched, but none was.\nDispatched (1):\n  - chain [ImportCsv, IndexRows, notify.done]')
    expect(() => Bus.assertChained([new ImportCsv(2), IndexRows, NotifyDone])).toThrow('Expected a chain [ImportCsv { importId: 2 }, IndexRows, notify.done]')
    await Bus.chain([new ImportCsv(2), Bus.batch([new IndexRows(2), new IndexRows(3)]).name('index')]).dispatch()
    expect(bus.chains[1]!.jobs[1]).toMatchObject({ name: 'index', jobs: [new IndexRows(2), new IndexRows(3)] })
    expect(() => Bus.assertChained([ImportCsv, IndexRows])).toThrow('  - chain [ImportCsv, batch "index" (2 jobs)]')
    expect(ran).toEqual([])
  })

  it('records batches: the dispatch resolves to a Batch; assertBatched with a predicate', async () => {
    using bus = Bus.fake()
    const batch = await Bus.batch([new ImportCsv(1), new ImportCsv(2), new IndexRows(1)]).then(new NotifyDone()).name('import').allowFailures().dispatch()
    expect(batch).toMatchObject({ name: 'import', totalJobs: 3, pendingJobs: 3, progress: 0, finished: false })
    Bus.assertBatched((fake) => fake.jobs.length === 3 && fake.name === 'import' && fake.allowFailures && fake.then.length === 1)
    expect(() => Bus.assertBatched((fake) => fake.name === 'export')).toThrow('Expected a batch matching the predicate to be dispatched, but none was.\nDispatched (1):\n  - batch "import" [ImportCsv, ImportCsv, IndexRows]')
    bus.assertBatchCount(1)
    Bus.assertNotDispatched(ImportCsv)
    expect(await Bus.findBatch(batch.id)).toBeNull()
  })

  it('restores: jobs run again (here on sync), and assertions without a fake name the call to make', async () => {
    const bus = Bus.fake()
    bus.restore()
    await ImportCsv.dispatch(3)
    expect(ran).toEqual(['import 3'])
    expect(() => Bus.assertDispatched(ImportCsv)).toThrow('Bus.assertDispatched() needs a fake: call Bus.fake() first.')
    ran.length = 0
  })

  it('leaves dispatchSync alone: the job runs', async () => {
    using _bus = Bus.fake()
    await ImportCsv.dispatchSync(4)
    expect(ran).toEqual(['import 4'])
    ran.length = 0
  })
})

describe('Queue.fake(): assertChained and assertBatched', () => {
  it('reads the chain in the first job envelope', async () => {
    using queue = Queue.fake()
    await Bus.chain([new ImportCsv(1), new IndexRows(1), new NotifyDone()]).dispatch()
    queue.assertPushed(ImportCsv, 1)
    queue.assertNotPushed(IndexRows)
    queue.assertChained([ImportCsv, IndexRows, NotifyDone])
    queue.assertChained([new ImportCsv(1), 'IndexRows', 'notify.done'])
    expect(() => queue.assertChained([ImportCsv, NotifyDone])).toThrow(
      'Expected a chain [ImportCsv, notify.done] to be pushed, but it was not (chains pushed: [ImportCsv, IndexRows, notify.done]).',
    )
    expect(ran).toEqual([])
  })

  it('groups pushed jobs by their batch', async () => {
    using queue = Queue.fake()
    const batch = await Bus.batch([new ImportCsv(1), new ImportCsv(2), new IndexRows(1)]).name('import').dispatch()
    queue.assertBatched((pushed) => pushed.jobs.length === 3 && pushed.name === 'import' && pushed.id === batch.id)
    expect(() => queue.assertBatched((pushed) => pushed.jobs.length === 2)).toThrow('Expected a batch matching the predicate to be pushed, but none was.')
    expect(await Bus.findBatch(batch.id)).toMatchObject({ totalJobs: 3, pendingJobs: 3 })
    expect(ran).toEqual([])
  })
})

describe('a batch job whose batch was pruned', () => {
  it('still runs, and is not counted (a warning, no retry)', async () => {
    const queue = Queue.fake()
    const batch = await Bus.batch([new ImportCsv(5)]).dispatch()
    const [pushed] = queue.pushed
    queue.restore()
    await (await app.make('db').connection())('job_batches').where('id', batch.id).delete()
    const outcome = await app.make('queue').runner('sync').process({ id: 'x', queue: 'default', payload: JSON.stringify(pushed!.envelope), attempts: 1 })
    expect(outcome).toEqual({ kind: 'done' })
    expect(ran).toEqual(['import 5'])
    ran.length = 0
  })
})
