/**
 * The demo dashboard's batches (issue 16) over real HTTP: "Start an import" (POST /batches,
 * CSRF-protected) dispatches a batch of ImportRows jobs; GET /batches and the page show its
 * progress as a worker runs them, up to 100%. SQLite, the database queue, a real worker.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bootApplication, createMigrator, type Application } from 'herald'
import { createApplicationHttpKernel, type HttpKernel } from '../../src/http/http-kernel.ts'
import { testWorker } from '../support/test-worker.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
let database: FreshDatabase
let app: Application
let kernel: HttpKernel
let base: string

beforeAll(async () => {
  database = await freshDatabase('sqlite')
  const filename = (database.connection as { filename: string }).filename
  app = await bootApplication({
    basePath: root,
    envFile: false,
    env: { LOG_LEVEL: 'silent', DB_DATABASE: filename, QUEUE_CONNECTION: 'database', BROADCAST_CONNECTION: 'null' },
  })
  await (await createMigrator(app)).latest()
  kernel = await createApplicationHttpKernel(app)
  base = `http://127.0.0.1:${(await kernel.listen(0, '127.0.0.1')).port}`
})
afterAll(async () => {
  await app?.shutdown()
  await database?.drop()
})

interface ListedBatch {
  id: string
  name: string
  totalJobs: number
  processedJobs: number
  progress: number
  state: string
}

async function listed(): Promise<ListedBatch[]> {
  return ((await (await fetch(`${base}/batches`)).json()) as { batches: ListedBatch[] }).batches
}

describe('dashboard batches', () => {
  it('starts an import batch and shows its progress until it is finished', async () => {
    const page = await fetch(`${base}/`)
    const token = /XSRF-TOKEN=([0-9a-f]{32}\.[0-9a-f]{64})/.exec(page.headers.get('set-cookie') ?? '')![1]!
    const html = await page.text()
    expect(html).toContain('id="batches-list"')
    expect(html).toContain('No batches yet.')

    const post = (headers: Record<string, string>) =>
      fetch(`${base}/batches`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', cookie: `XSRF-TOKEN=${token}`, ...headers }, body: '{}' })
    expect((await post({})).status).toBe(419)
    const started = await post({ 'x-csrf-token': token })
    expect(started.status).toBe(201)
    const { batch } = (await started.json()) as { batch: ListedBatch }
    expect(batch).toMatchObject({ name: 'demo import', totalJobs: 10, processedJobs: 0, progress: 0, state: 'running' })
    expect(await listed()).toEqual([expect.objectContaining({ id: batch.id, progress: 0 })])

    const seen = new Set<number>()
    const worker = testWorker(app.make('queue'))
    const running = worker.run()
    try {
      await expect
        .poll(
          async () => {
            const [now] = await listed()
            seen.add(now!.progress)
            return now!.state
          },
          { timeout: 30_000, interval: 20 },
        )
        .toBe('finished')
    } finally {
      await worker.stop()
      await running
    }
    expect(await listed()).toEqual([expect.objectContaining({ id: batch.id, processedJobs: 10, progress: 100, state: 'finished' })])
    // It went up in steps, as the jobs finished.
    expect([...seen].some((progress) => progress > 0 && progress < 100)).toBe(true)
    const after = await (await fetch(`${base}/`)).text()
    expect(after).toContain(`data-batch="${batch.id}" data-state="finished"`)
    expect(after).toContain('<progress class="batch-progress" max="100" value="100"')
  })
})
