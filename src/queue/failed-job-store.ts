/** A job that failed for good, as `queue:failed` lists it. */
export interface FailedJob {
  readonly id: number
  readonly uuid: string
  readonly connection: string
  readonly queue: string
  readonly payload: string
  readonly exception: string
  readonly failedAt: Date
}

/** Where failed jobs go, whatever the driver: the `failed_jobs` table in production. */
export interface FailedJobStore {
  log(connection: string, queue: string, payload: string, error: unknown): Promise<FailedJob>
  all(): Promise<FailedJob[]>
  /** By numeric id or by uuid. */
  find(id: string): Promise<FailedJob | null>
  forget(id: string): Promise<boolean>
  /** Deletes all, or those older than `hours`; resolves to how many. */
  flush(hours?: number): Promise<number>
  close(): Promise<void>
}

/** The text stored for an error: its stack, or what it says. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`
  return String(error)
}

/** A store in memory, for tests and for applications without a database. */
export class MemoryFailedJobStore implements FailedJobStore {
  private readonly jobs: FailedJob[] = []
  private nextId = 1

  async log(connection: string, queue: string, payload: string, error: unknown): Promise<FailedJob> {
    let uuid: string
    try {
      uuid = (JSON.parse(payload) as { uuid?: string }).uuid ?? crypto.randomUUID()
    } catch {
      uuid = crypto.randomUUID()
    }
    const job = { id: this.nextId++, uuid, connection, queue, payload, exception: describeFailure(error), failedAt: new Date() }
    this.jobs.push(job)
    return job
  }

  async all(): Promise<FailedJob[]> {
    return [...this.jobs].reverse()
  }

  async find(id: string): Promise<FailedJob | null> {
    return this.jobs.find((job) => String(job.id) === id || job.uuid === id) ?? null
  }

  async forget(id: string): Promise<boolean> {
    const index = this.jobs.findIndex((job) => String(job.id) === id || job.uuid === id)
    if (index < 0) return false
    this.jobs.splice(index, 1)
    return true
  }

  async flush(hours?: number): Promise<number> {
    const before = this.jobs.length
    const cutoff = hours === undefined ? Infinity : Date.now() - hours * 3_600_000
    for (let i = this.jobs.length - 1; i >= 0; i--) if (this.jobs[i]!.failedAt.getTime() < cutoff) this.jobs.splice(i, 1)
    return before - this.jobs.length
  }

  async close(): Promise<void> {}
}
