/**
 * The rate-limited job the job-middleware test runs in its own process and in a second worker
 * process (tests/support/rate-limited-worker-process.ts): both define the same limiter, so the
 * test can show that the count is shared. Each run is reported through `report`.
 */
import { Job, Limit, RateLimited, RateLimiter, type JobMiddleware } from '../../src/index.ts'

/** Jobs per window, and the window in seconds, of the shared limiter. */
export const SHARED_LIMIT = { jobs: 3, seconds: 2 }

export let report: (line: string) => void = () => {}

export function reportTo(sink: (line: string) => void): void {
  report = sink
}

export function defineSharedLimiter(): void {
  RateLimiter.for('shared', (job: SharedLimited) => Limit.perSecond(SHARED_LIMIT.jobs, SHARED_LIMIT.seconds).by(job.tenant))
}

export class SharedLimited extends Job {
  tries = 1
  constructor(
    readonly n: number,
    readonly tenant: string,
  ) {
    super()
  }
  middleware(): JobMiddleware[] {
    return [new RateLimited('shared')]
  }
  async handle() {
    report(`ran ${this.n} ${this.attempts()} ${Date.now()} ${process.pid}`)
    // Some work, so that the other worker gets its share of the jobs.
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
