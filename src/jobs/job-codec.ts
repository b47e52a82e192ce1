import { errorMessage } from '../foundation/error-message.ts'
import type { Logger } from '../foundation/logger.ts'
import { decodeValue, encodeValue, type EventClassRegistry } from '../foundation/serializer.ts'
import type { JobPushOptions, QueueManager } from '../queue/queue-manager.ts'
import type { JobDispatcher } from './job-dispatcher.ts'
import { isJob, jobNameOf, type Job } from './job.ts'

/**
 * What a catch callback job is told about the failure that set it off (chains' and batches'
 * `catch(job)`): the jobs layer sets it as the callback job's `failure` field before pushing it.
 *
 * ```ts
 * class NotifyImportFailed extends Job {
 *   failure: JobFailure | null = null
 *   constructor(readonly importId: number) { super() }
 *   handle() { mail(`import ${this.importId} failed in ${this.failure?.job}: ${this.failure?.message}`) }
 * }
 * ```
 */
export interface JobFailure {
  /** The failed job's name (`static jobName` or its class name). */
  readonly job: string
  /** The failed job's id (its envelope uuid, the uuid in failed_jobs). */
  readonly uuid: string
  /** The error's message (after the `events.redact` rules). */
  readonly message: string
}

/** What chains and batches need of the application: the queue (its serializer), the dispatcher, the log. */
export interface WorkflowContext {
  readonly queue: () => QueueManager
  readonly dispatcher: () => JobDispatcher
  readonly logger: Logger
}

/** A job as it travels in another job's envelope (`bus` fields): encoded by the queue's serializer. */
export function encodeJob(context: WorkflowContext, job: Job): unknown {
  const queue = context.queue()
  const name = jobNameOf(job.constructor)
  queue.registerClass(name, job.constructor)
  // The registry names instances by class name (or `static eventName`); a job's own name may be
  // its `static jobName`, under which it was just registered.
  const registry: EventClassRegistry = {
    classFor: (wanted) => queue.registry.classFor(wanted),
    nameOf: (instance) => (instance === job ? name : queue.registry.nameOf(instance)),
  }
  return encodeValue(job, registry)
}

/** A job carried in `bus` fields, rebuilt; anything else there is an error naming the field. */
export function decodeJob(context: WorkflowContext, value: unknown, field: string): Job {
  const job = decodeValue(value, context.queue().registry, field)
  if (!isJob(job)) throw new Error(`${field} is not a job (a class extending Job, registered on this worker): is it exported from app/jobs?`)
  return job
}

/**
 * Checks a callback (chain `catch`, batch `then`/`catch`/`finally`): it must be a Job instance,
 * since a closure cannot travel to another worker process.
 */
export function callbackJob(value: unknown, method: string): Job {
  if (isJob(value)) return value
  if (typeof value === 'function') {
    throw new TypeError(`${method}() takes a job (e.g. new NotifyImportFailed(importId)), not a function: a function cannot travel to another worker process.`)
  }
  throw new TypeError(`${method}() takes a job (an instance of a class extending Job), got ${value === null ? 'null' : typeof value}.`)
}

/** The list of jobs of a chain or batch, checked: Job instances only. */
export function jobList(jobs: unknown, method: string): Job[] {
  if (!Array.isArray(jobs)) throw new TypeError(`${method}() takes a list of jobs ([new A(), new B()]).`)
  for (const [at, job] of jobs.entries()) {
    if (!isJob(job)) throw new TypeError(`${method}(): item ${at} is not a job (an instance of a class extending Job)${typeof job === 'function' ? '; a function cannot travel to another worker process' : ''}.`)
  }
  return jobs as Job[]
}

/** The failure a catch callback job gets. */
export function failureOf(name: string, uuid: string, error: unknown): JobFailure {
  return { job: name, uuid, message: errorMessage(error) }
}

/** Where a chain's or batch's connection and queue send a job (unset: the job's own options). */
export function placement(connection: string | undefined, queue: string | undefined): JobPushOptions {
  return { ...(connection !== undefined && { connection }), ...(queue !== undefined && { queue }) }
}

/** The connection a job goes to: the placement's, its own, or the default. */
export function connectionFor(context: WorkflowContext, job: Job, where: JobPushOptions): string {
  if (where.connection !== undefined) return where.connection
  const own = (job as { connection?: unknown }).connection
  const value = typeof own === 'function' ? (own as () => unknown).call(job) : own
  return typeof value === 'string' ? value : context.queue().defaultConnection
}

/**
 * Pushes a job that follows another (a chain's next job, a callback). On the sync connection
 * the job runs inside the push and its failure has been handled already (failed(), failed_jobs,
 * the chain's catch): it must not make the job before it run again, so it is logged only.
 */
export async function pushFollowing(context: WorkflowContext, job: Job, where: JobPushOptions): Promise<'pushed' | 'dropped'> {
  const connection = connectionFor(context, job, where)
  try {
    // '' when a feature dropped the push (a unique job whose lock is held).
    return (await context.dispatcher().dispatch(job, where)) === '' ? 'dropped' : 'pushed'
  } catch (error) {
    if (context.queue().settings(connection).driver !== 'sync') throw error
    context.logger.warn(`${jobNameOf(job.constructor)} failed on the sync connection: ${errorMessage(error)}`)
    return 'pushed'
  }
}
