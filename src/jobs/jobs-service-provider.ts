import { pathToFileURL } from 'node:url'
import { sourceFiles } from '../events/discovery.ts'
import { ServiceProvider } from '../foundation/service-provider.ts'
import { UserError } from '../foundation/errors.ts'
import { errorMessage } from '../foundation/error-message.ts'
import { JobDispatcher } from './job-dispatcher.ts'
import { isJobClass, jobNameOf } from './job.ts'
import { JobWorkflows } from './job-workflows.ts'
import { JobLocks, setDefaultJobLocks } from './locks/job-locks.ts'
import { UniqueJobs } from './unique-jobs.ts'
import { JobRateLimits, installedRateLimits, useRateLimits } from './middleware/rate-limit-store.ts'

declare module '../foundation/container.ts' {
  interface ContainerBindings {
    /** The application's jobs: `Bus`, `SomeJob.dispatch(...)`. */
    bus: JobDispatcher
    /** Chains, batches and Bus.fake(), installed on `bus` as its extensions. */
    'bus.workflows': JobWorkflows
    /** The lock stores of jobs (unique jobs, WithoutOverlapping), by queue connection. */
    'jobs.locks': JobLocks
    /** The counters of job middleware (RateLimited, ThrottlesExceptions): Redis, the database or memory. */
    'jobs.limits': JobRateLimits
    /** The job classes found in app/jobs at boot, by name, with their files. */
    'jobs.discovered': ReadonlyArray<{ readonly name: string; readonly file: string; readonly job: Function }>
  }
}

/** Where job classes live, under the project root. */
export const JOBS_PATH = 'app/jobs'

/**
 * Binds the jobs dispatcher and installs it as the way workers run job classes. With discovery
 * on (EVENTS_DISCOVERY), the job classes exported from app/jobs are registered at boot, so a
 * worker can rebuild every job it is handed; a job class dispatched from elsewhere registers
 * itself when dispatched.
 */
export class JobsServiceProvider extends ServiceProvider {
  private removeWorkflows: (() => void) | null = null
  private uninstall: (() => void) | null = null

  override register(): void {
    this.app.singleton('bus', () => new JobDispatcher({ queue: () => this.app.make('queue'), logger: this.app.logger }))
    this.app.singleton(
      'bus.workflows',
      () =>
        new JobWorkflows({
          queue: () => this.app.make('queue'),
          dispatcher: () => this.app.make('bus'),
          database: () => this.app.make('db'),
          logger: this.app.logger,
          batchDatabase: this.app.config.get('queue').failed.database ?? null,
        }),
    )
    this.app.singleton('jobs.locks', () => new JobLocks({ queue: () => this.app.make('queue'), database: () => this.app.make('db'), logger: () => this.app.logger }))
    this.app.singleton('jobs.limits', () => new JobRateLimits({ queue: this.app.config.get('queue'), database: () => this.app.make('db') }))
  }

  override async boot(): Promise<void> {
    const bus = this.app.make('bus')
    this.removeWorkflows = this.app.make('bus.workflows').install(bus)
    this.app.make('queue').useJobs(bus)
    const locks = this.app.make('jobs.locks')
    this.uninstall = bus.extend(new UniqueJobs({ queue: () => this.app.make('queue'), locks, logger: () => this.app.logger }))
    setDefaultJobLocks(locks)
    // Job middleware finds the counters of the application that is running it (the last booted).
    useRateLimits(this.app.make('jobs.limits'))
    const found: Array<{ name: string; file: string; job: Function }> = []
    if (this.app.config.get('events').discovery) {
      for (const path of sourceFiles(this.app.path(JOBS_PATH))) {
        const file = path.slice(this.app.basePath.length + 1).split('\\').join('/')
        let exports: Record<string, unknown>
        try {
          exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>
        } catch (error) {
          throw new UserError(`${file} could not be loaded: ${errorMessage(error)}`)
        }
        for (const value of Object.values(exports)) {
          if (typeof value !== 'function' || !isJobClass(value) || found.some((entry) => entry.job === value)) continue
          bus.serializable(value)
          found.push({ name: jobNameOf(value), file, job: value })
        }
      }
    }
    this.app.instance('jobs.discovered', found)
  }

  override async shutdown(): Promise<void> {
    this.removeWorkflows?.()
    this.removeWorkflows = null
    if (this.app.resolved('queue')) this.app.make('queue').useJobs(null)
    this.uninstall?.()
    this.uninstall = null
    if (this.app.resolved('jobs.locks')) {
      const locks = this.app.make('jobs.locks')
      setDefaultJobLocks(null, locks)
      await locks.close()
    }
    if (this.app.resolved('jobs.limits')) {
      const limits = this.app.make('jobs.limits')
      if (installedRateLimits() === limits) useRateLimits(null)
      await limits.close()
    }
  }
}
