/**
 * `artisan queue:jobs [--json]` in a copy of the project: the job classes of app/jobs (nested
 * folders, several per file) with their file and the queue options a plain dispatch() gives
 * them, defaults included; computed options marked; a job whose options cannot be read is
 * listed with the reason.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyProject } from '../support/project-copy.ts'

const copy = copyProject()
const env = { LOG_LEVEL: 'silent', DB_CONNECTION: 'sqlite', DB_DATABASE: 'database/jobs.sqlite', QUEUE_CONNECTION: 'database' }

function artisan(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env: { ...process.env, NO_COLOR: '1', ...env, ...extra }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 2) : 0, stdout, stderr }),
    )
  })
}

beforeAll(() => {
  // Start from a project without job classes: the demo's own (the dashboard's ImportRows) goes.
  rmSync(join(copy.root, 'app/jobs/import-rows.ts'))
  mkdirSync(join(copy.root, 'app/jobs/media'), { recursive: true })
})
afterAll(() => copy.remove())

describe('queue:jobs', () => {
  it('says there are none, and how to make one', async () => {
    expect(await artisan(['queue:jobs'])).toEqual({ code: 0, stdout: 'No job classes in app/jobs. Make one with: artisan make:job ProcessPodcast\n', stderr: '' })
    expect(await artisan(['queue:jobs', '--json'])).toEqual({ code: 0, stdout: '[]\n', stderr: '' })
  })

  it('lists each job with its file and options, as JSON too', async () => {
    expect((await artisan(['make:job', 'Media/ProcessPodcast'])).code).toBe(0)
    expect((await artisan(['make:job', 'PruneDrafts', '--sync'])).code).toBe(0)
    writeFileSync(
      join(copy.root, 'app/jobs/orders.ts'),
      `import { Job, type JobOptions } from 'herald'

export class ShipOrder extends Job implements JobOptions {
  connection = 'bullmq'
  queue = 'shipping'
  tries = 5
  backoff = 30
  timeout = 120
  constructor(readonly region: string = 'eu') {
    super()
  }
  handle() {}
}

export class RouteOrder extends Job {
  constructor(readonly order: { region: string }) {
    super()
  }
  viaQueue() {
    return 'orders-' + this.order.region
  }
  handle() {}
}

export class NeedsItsId extends Job {
  constructor(readonly id: number) {
    super()
    if (typeof id !== 'number') throw new Error('an id is required')
  }
  handle() {}
}

// Not a job: not listed.
export class Helper {}
`,
    )
    const text = await artisan(['queue:jobs'])
    expect(text.stderr).toBe('')
    expect(text.code).toBe(0)
    const lines = text.stdout.split('\n')
    expect(lines[0]).toMatch(/^Job\s+File\s+Connection\s+Queue\s+Tries\s+Backoff \(s\)\s+Timeout \(s\)$/)
    expect(lines).toContainEqual(expect.stringMatching(/^ProcessPodcast\s+app\/jobs\/media\/process-podcast\.ts\s+database\s+default\s+3\s+10,60\s+-$/))
    expect(lines).toContainEqual(expect.stringMatching(/^PruneDrafts\s+app\/jobs\/prune-drafts\.ts\s+sync\s+default\s+-\s+-\s+-$/))
    expect(lines).toContainEqual(expect.stringMatching(/^ShipOrder\s+app\/jobs\/orders\.ts\s+bullmq\s+shipping\s+5\s+30\s+120$/))
    expect(lines).toContainEqual(expect.stringMatching(/^RouteOrder\s+app\/jobs\/orders\.ts\s+database\s+default\*\s+-\s+-\s+-$/))
    expect(lines).toContainEqual(expect.stringMatching(/^NeedsItsId\s+app\/jobs\/orders\.ts\s+database\s+default\s+-\s+-\s+-$/))
    expect(text.stdout).not.toContain('Helper')
    expect(text.stdout).toContain("- : the worker's --tries / --backoff / --timeout decide; * : computed by the job (a method), as for a job built with no arguments.")
    expect(lines).toContain("RouteOrder: an option threw on a job built with no arguments (Cannot read properties of undefined (reading 'region')); its default is shown")
    expect(lines).toContain('NeedsItsId: its options could not be read: new NeedsItsId() threw (an id is required); defaults shown')

    const json = await artisan(['queue:jobs', '--json'])
    const listed = JSON.parse(json.stdout) as Array<Record<string, unknown>>
    expect(listed.map((job) => job.name).sort()).toEqual(['NeedsItsId', 'ProcessPodcast', 'PruneDrafts', 'RouteOrder', 'ShipOrder'])
    const byName = new Map(listed.map((job) => [job.name, job]))
    expect(byName.get('ProcessPodcast')).toEqual({
      name: 'ProcessPodcast',
      file: 'app/jobs/media/process-podcast.ts',
      connection: 'database',
      queue: 'default',
      tries: 3,
      backoff: [10, 60],
      timeout: null,
      computed: [],
    })
    expect(byName.get('ShipOrder')).toEqual({ name: 'ShipOrder', file: 'app/jobs/orders.ts', connection: 'bullmq', queue: 'shipping', tries: 5, backoff: [30], timeout: 120, computed: [] })
    expect(byName.get('PruneDrafts')).toMatchObject({ connection: 'sync', tries: null })
    expect(byName.get('RouteOrder')).toMatchObject({ queue: 'default', computed: ['queue'], note: expect.stringContaining('an option threw') })
  })

  it('shows the defaults of .env: QUEUE_CONNECTION, EVENTS_DEFAULT_QUEUE, EVENTS_RETRY_*', async () => {
    const json = await artisan(['queue:jobs', '--json'], { QUEUE_CONNECTION: 'bullmq', EVENTS_DEFAULT_QUEUE: 'background', EVENTS_RETRY_ATTEMPTS: '4', EVENTS_RETRY_DELAY_SECONDS: '15' })
    const podcast = (JSON.parse(json.stdout) as Array<Record<string, unknown>>).find((job) => job.name === 'ProcessPodcast')
    // The job's own tries and backoff win; connection, queue and timeout come from the defaults.
    expect(podcast).toMatchObject({ connection: 'bullmq', queue: 'background', tries: 3, backoff: [10, 60], timeout: null })
    const needs = (JSON.parse(json.stdout) as Array<Record<string, unknown>>).find((job) => job.name === 'NeedsItsId')
    expect(needs).toMatchObject({ connection: 'bullmq', queue: 'background', tries: 4, backoff: [15] })
  })

  it('says when discovery is off', async () => {
    expect((await artisan(['queue:jobs'], { EVENTS_DISCOVERY: 'false' })).stdout).toBe(
      'No job classes in app/jobs (discovery is off: EVENTS_DISCOVERY=false). Make one with: artisan make:job ProcessPodcast\n',
    )
  })
})
