/**
 * `artisan make:job` as a user runs it, in a copy of the project: the job and its test are
 * written where the stubs say, type-check, and the generated test passes unchanged (and fails
 * when the job does); bad names and existing files are refused with one line, nothing written.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyProject } from '../support/project-copy.ts'
import { run, artisan, created, tree, vitest } from '../support/cli-run.ts'

const timeout = 240_000

describe('make:job', () => {
  let copy: ReturnType<typeof copyProject>
  const queuedTest = 'tests/feature/jobs/media/process-podcast.test.ts'
  const syncTest = 'tests/feature/jobs/prune-drafts.test.ts'
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())
  const read = (path: string) => readFileSync(join(copy.root, path), 'utf8')

  it('writes a queued job (nested) and a sync one, with their feature tests', { timeout }, async () => {
    expect(await artisan(copy.root, 'make:job', 'Media/ProcessPodcast', '--test')).toEqual({
      code: 0,
      stdout: created('app/jobs/media/process-podcast.ts', queuedTest),
      stderr: '',
    })
    expect(await artisan(copy.root, 'make:job', 'prune_drafts', '--sync', '--test')).toEqual({
      code: 0,
      stdout: created('app/jobs/prune-drafts.ts', syncTest),
      stderr: '',
    })
    const queued = read('app/jobs/media/process-podcast.ts')
    expect(queued).toContain("import { Job, type JobOptions } from 'herald'")
    expect(queued).toContain('export default class ProcessPodcast extends Job implements JobOptions {')
    expect(queued).toContain('tries = 3')
    expect(queued).toContain('backoff = [10, 60]')
    expect(queued).toContain('constructor(readonly id: number) {')
    expect(queued).toContain('async handle() {')
    expect(queued).not.toContain("connection = 'sync'")
    const sync = read('app/jobs/prune-drafts.ts')
    expect(sync).toContain('export default class PruneDrafts extends Job implements JobOptions {')
    expect(sync).toContain("connection = 'sync'")
    expect(sync).toContain('dispatchSync')
    expect(sync).not.toContain('tries')
    expect(read(queuedTest)).toContain("import ProcessPodcast from '../../../../app/jobs/media/process-podcast.ts'")
    expect(read(syncTest)).toContain("pushed.connection === 'sync'")
  })

  it('the project, generated files included, type-checks', { timeout }, async () => {
    const result = await run(copy.root, join(copy.root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'])
    expect(result.stdout + result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('the generated tests pass unchanged, and fail when the job throws', { timeout }, async () => {
    const passing = await vitest(copy.root, [queuedTest, syncTest])
    expect(passing.testResults.map(({ name, status }) => [relative(copy.root, name), status]).sort()).toEqual([
      [queuedTest, 'passed'],
      [syncTest, 'passed'],
    ])
    expect({ passed: passing.numPassedTests, failed: passing.numFailedTests, code: passing.code }).toEqual({ passed: 6, failed: 0, code: 0 })

    // The generated test runs the job for real: a handle() that throws fails "runs with dispatchSync".
    const file = join(copy.root, 'app/jobs/media/process-podcast.ts')
    const source = read('app/jobs/media/process-podcast.ts')
    writeFileSync(file, source.replace('async handle() {', "async handle() {\n    throw new Error('transcoder down')"))
    const failing = await vitest(copy.root, [queuedTest])
    const failed = failing.testResults.flatMap(({ assertionResults }) => assertionResults.filter(({ status }) => status === 'failed').map(({ title }) => title))
    expect(failed).toEqual(['runs with dispatchSync'])
    expect(failing.code).not.toBe(0)
    writeFileSync(file, source)
  })

  it('is listed by artisan list, and stub:publish publishes its stubs', { timeout }, async () => {
    const list = await artisan(copy.root, 'list')
    expect(list.stdout).toMatch(/make:job\s+Create a job class in app\/jobs/)
    const published = await artisan(copy.root, 'stub:publish')
    expect(published.code).toBe(0)
    for (const name of ['job', 'job.sync', 'test.job']) {
      expect(published.stdout).toContain(`CREATE stubs/${name}.stub\n`)
      expect(read(`stubs/${name}.stub`)).toBe(read(`src/console/stubs/${name}.stub`))
    }
  })
})

describe('what make:job loads', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  it('commander and handlebars, and no engine, no TypeScript loader, no app code', { timeout }, async () => {
    const trace = join(copy.root, 'imports.txt')
    const result = await run(copy.root, process.execPath, ['--import', './tests/support/trace-imports.mjs', 'bin/artisan', 'make:job', 'Media/ProcessPodcast', '--test'], {
      HERALD_TRACE_IMPORTS: trace,
    })
    expect(result.stdout).toBe(created('app/jobs/media/process-podcast.ts', 'tests/feature/jobs/media/process-podcast.test.ts'))
    const urls = readFileSync(trace, 'utf8').split('\n').filter((url) => url !== '')
    const packages = new Set(urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []))
    expect(packages.has('commander')).toBe(true)
    expect(packages.has('handlebars')).toBe(true)
    for (const name of ['bullmq', 'socket.io', 'knex', 'express', 'ioredis', 'tsx', 'esbuild']) expect(packages.has(name), name).toBe(false)
    expect(urls.filter((url) => url.includes('/app/') || url.includes('/config/'))).toEqual([])
  })
})

describe('make:job refusals', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  it('refuses bad names and path traversal with one line and exit 1, writing nothing', { timeout }, async () => {
    const before = tree(copy.root)
    const refusals: Array<[string, string]> = [
      ['../x', 'Invalid name "../x": "." and ".." segments are not allowed; generators only write inside app/ and tests/.\n'],
      ['Media/../../x', 'Invalid name "Media/../../x": "." and ".." segments are not allowed; generators only write inside app/ and tests/.\n'],
      ['/etc/Evil', 'Invalid name "/etc/Evil": it is an absolute path; give a name relative to the generator\'s folder, e.g. Admin/UserBanned.\n'],
      ['9lives', 'Invalid name "9lives": "9lives" is not an identifier; use letters and digits, starting with a letter (e.g. OrderShipped).\n'],
      ['Job', 'Invalid name "Job": "Job" is a name the generated job imports from \'herald\'; choose another, e.g. ProcessJob.\n'],
      ['Queue', 'Invalid name "Queue": "Queue" is a name the generated job imports from \'herald\'; choose another, e.g. ProcessQueue.\n'],
      ['Delete', 'Invalid name "Delete": "delete" is a reserved word in TypeScript; choose a name that says what happened, e.g. OrderShipped.\n'],
      ['', 'Invalid name "": the name is empty; give one like OrderShipped.\n'],
    ]
    for (const [name, stderr] of refusals) {
      const result = await artisan(copy.root, 'make:job', name, '--test')
      expect({ name, ...result }).toEqual({ name, code: 1, stdout: '', stderr })
    }
    expect(tree(copy.root)).toEqual(before)
  })

  it('never overwrites without --force (writing none of the files), and overwrites with it', { timeout }, async () => {
    expect((await artisan(copy.root, 'make:job', 'SendInvoice')).code).toBe(0)
    const path = join(copy.root, 'app/jobs/send-invoice.ts')
    const generated = readFileSync(path, 'utf8')
    writeFileSync(path, `${generated}// my own edit\n`)
    const before = tree(copy.root)

    expect(await artisan(copy.root, 'make:job', 'SendInvoice', '--test')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'app/jobs/send-invoice.ts already exists: nothing was written; use --force to overwrite.\n',
    })
    expect(tree(copy.root)).toEqual(before)
    expect(existsSync(join(copy.root, 'tests/feature/jobs/send-invoice.test.ts'))).toBe(false)

    expect(await artisan(copy.root, 'make:job', 'SendInvoice', '--sync', '--test', '--force')).toEqual({
      code: 0,
      stdout: 'OVERWRITE app/jobs/send-invoice.ts\nCREATE tests/feature/jobs/send-invoice.test.ts\n',
      stderr: '',
    })
    expect(readFileSync(path, 'utf8')).toContain("connection = 'sync'")
  })
})
