import type { Logger } from '../foundation/logger.ts'
import { errorMessage } from '../foundation/error-message.ts'

/** A job a worker is about to run, as `Queue.before(...)` callbacks see it. */
export interface JobStarting {
  readonly connection: string
  readonly id: string
  readonly queue: string
  /** The job's display name: the listener (or event) class. */
  readonly name: string
  readonly attempt: number
  readonly startedAt: Date
}

/** One line of `queue:work` output; what `Queue.after(...)` and `Queue.failing(...)` callbacks get. */
export interface JobReport extends JobStarting {
  readonly status: 'DONE' | 'RELEASED' | 'FAIL'
  readonly ms: number
  readonly error?: string
}

/** What each hook's callbacks receive. */
export interface JobHookPayloads {
  readonly before: JobStarting
  readonly after: JobReport
  readonly failing: JobReport
}

export type JobHookName = keyof JobHookPayloads
export type JobHookCallback<K extends JobHookName> = (job: JobHookPayloads[K]) => unknown

/**
 * Laravel's `Queue::before`, `Queue::after` and `Queue::failing`: callbacks a worker of this
 * process runs around every job (a dashboard's live job list, metrics). A callback never holds
 * up or fails a job: it is not awaited, and what it throws or rejects with is logged.
 */
export class JobHooks {
  readonly before: JobHookCallback<'before'>[] = []
  readonly after: JobHookCallback<'after'>[] = []
  readonly failing: JobHookCallback<'failing'>[] = []

  constructor(private readonly logger: () => Logger) {}

  /** Whether any callback is registered (a worker reads job names only then). */
  get active(): boolean {
    return this.before.length + this.after.length + this.failing.length > 0
  }

  /** Adds a callback; the result removes it. */
  add<K extends JobHookName>(hook: K, callback: JobHookCallback<K>): () => void {
    const list = this[hook] as JobHookCallback<K>[]
    list.push(callback)
    return () => {
      const at = list.indexOf(callback)
      if (at >= 0) list.splice(at, 1)
    }
  }

  run<K extends JobHookName>(hook: K, job: JobHookPayloads[K]): void {
    for (const callback of this[hook] as JobHookCallback<K>[]) {
      try {
        const result = callback(job)
        if (result instanceof Promise) result.catch((error: unknown) => this.report(hook, error))
      } catch (error) {
        this.report(hook, error)
      }
    }
  }

  private report(hook: JobHookName, error: unknown): void {
    this.logger().warn(`A Queue.${hook}() callback failed: ${errorMessage(error)}`)
  }
}
