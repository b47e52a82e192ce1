import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import { flag } from '../generator/command-options.ts'
import { nameContext } from '../generator/contexts.ts'
import { parseName } from '../generator/naming.ts'
import { renderStub, type RenderedFile } from '../generator/render.ts'
import { writeFiles } from '../generator/write-files.ts'
import { quoteInput } from '../quote-input.ts'

/**
 * Names the job stubs import from 'herald' besides those every generator refuses: a job class
 * called one of them would clash with its own import (`class Job extends Job`).
 */
const jobStubImports: ReadonlySet<string> = new Set(['Job', 'JobOptions', 'Queue'])

/**
 * `artisan make:job ProcessPodcast [--sync] [--test] [--force]`: a job class in app/jobs
 * (nested names like `Media/ProcessPodcast` go to app/jobs/media/process-podcast.ts), registered
 * at boot with nothing else to write.
 *
 * - default: a queued job with `tries`, `backoff` and a typed constructor as examples.
 * - `--sync`: a job meant for `dispatchSync` only. Its `connection = 'sync'` means a plain
 *   `dispatch()` runs it at once in the dispatching process too, so it is never stored for a
 *   worker (Laravel's job without ShouldQueue).
 * - `--test`: a feature test (tests/feature/jobs/) that boots the application, checks the job is
 *   discovered and where `dispatch()` sends it (under Queue.fake()), and runs it with dispatchSync.
 */
const makeJob: CommandHandler = async ({ args, options, output, cwd }) => {
  const name = parseName(args[0] ?? '')
  if (jobStubImports.has(name.className)) {
    throw new UserError(`Invalid name ${quoteInput(name.input)}: "${name.className}" is a name the generated job imports from 'herald'; choose another, e.g. Process${name.className}.`)
  }
  const sync = flag(options, 'sync')
  const context = { ...nameContext(name), sync }
  const job = await renderStub(cwd, sync ? 'job.sync' : 'job', context)
  const files: RenderedFile[] = [job]
  if (flag(options, 'test')) files.push(await renderStub(cwd, 'test.job', { ...context, job: { class: name.className, file: job.to } }))
  writeFiles(cwd, files, output, flag(options, 'force'))
  return 0
}

export default makeJob
