import { randomUUID } from 'node:crypto'
import { carriedContext, type CarriedContext } from '../events/event-context.ts'
import { PayloadDecodeError } from '../foundation/payload-decode-error.ts'
import { decodeValue, encodeValue, type EventClassRegistry } from '../foundation/serializer.ts'
import { errorMessage } from '../foundation/error-message.ts'

/**
 * One job, as every driver stores it: JSON, the same for sync, database and BullMQ, so
 * failed jobs can be retried on any connection.
 */
export interface JobEnvelope {
  readonly uuid: string
  /** What `queue:work` and `queue:failed` show: the listener's or the event's name. */
  readonly displayName: string
  /**
   * A queued listener, a ShouldQueue event dispatched as a whole, a ShouldBroadcast event's
   * message (data.payload, a BroadcastMessage) for the worker's broadcast connection, or a job
   * class's instance (data.event its job name, data.payload the job itself).
   */
  readonly job: JobKind
  readonly data: {
    /** The listener's registered name (job 'listener'). */
    readonly listener?: string
    /** The routed method of a subscriber-style listener, if not `handle`. */
    readonly method?: string | null
    /** The event's name, or the job's (job 'job'). */
    readonly event: string
    /** The event (or payload, or job), encoded by the serializer. */
    readonly payload: unknown
  }
  /** Attempts made before this delivery. */
  readonly attempts: number
  /** Exceptions thrown so far (for maxExceptions; a release is an attempt, not an exception). */
  readonly exceptions: number
  /**
   * Deliveries that were not attempts: releases made with `RunningJob.releaseUncounted()` (a
   * rate-limited job put back without running). Drivers count every delivery; the runner takes
   * these off, so such a release never uses up a try. Absent: 0.
   */
  readonly uncounted?: number
  readonly maxTries: number | null
  readonly maxExceptions: number | null
  /** Seconds to wait before each retry; the last one repeats. */
  readonly backoff: readonly number[] | null
  /** Seconds a single attempt may run. */
  readonly timeout: number | null
  readonly failOnTimeout: boolean
  /** Epoch milliseconds after which the job is not retried. */
  readonly retryUntil: number | null
  /** Epoch milliseconds. */
  readonly createdAt: number
  /**
   * The event context it was pushed in (correlation id, causing event, trace parent), when
   * there was one: the worker runs the job in it, so the chain and the trace continue.
   */
  readonly context?: CarriedContext
  /**
   * What the jobs layer carries with a job class's job (job 'job'): the rest of its chain, its
   * batch, its unique lock. Opaque to the queue; checked by the jobs layer.
   */
  readonly bus?: Readonly<Record<string, unknown>>
}

export type JobKind = 'listener' | 'event' | 'broadcast' | 'job'

/** The options of a job that sets none of its own: the worker's defaults apply. */
export const NO_JOB_OPTIONS = {
  maxTries: null,
  maxExceptions: null,
  backoff: null,
  timeout: null,
  failOnTimeout: false,
  retryUntil: null,
} as const satisfies Partial<JobEnvelope>

export type EnvelopeInput = Omit<JobEnvelope, 'uuid' | 'attempts' | 'exceptions' | 'createdAt' | 'data' | 'context' | 'bus'> & {
  readonly data: { readonly listener?: string; readonly method?: string | null; readonly event: string; readonly payload: unknown }
}

export function createEnvelope(input: EnvelopeInput, registry: EventClassRegistry): JobEnvelope {
  const envelope: JobEnvelope = {
    ...input,
    uuid: randomUUID(),
    data: { ...input.data, payload: encodeValue(input.data.payload, registry) },
    attempts: 0,
    exceptions: 0,
    createdAt: Date.now(),
  }
  const context = carriedContext()
  return context === undefined ? envelope : { ...envelope, context }
}

/** A stored payload's job name for lists and logs, even when it cannot be decoded (its listener or event, as the worker names it). */
export function jobDisplayName(payload: string): string {
  try {
    const envelope = JSON.parse(payload) as { displayName?: unknown; data?: { listener?: unknown; event?: unknown } | null }
    if (typeof envelope.displayName === 'string') return envelope.displayName
    const data = envelope.data
    if (typeof data?.listener === 'string') return data.listener
    return typeof data?.event === 'string' ? data.event : '(unknown job)'
  } catch {
    return '(undecodable job)'
  }
}

/**
 * Parses a stored payload; anything malformed is a PayloadDecodeError naming what is wrong
 * (`envelope.attempts: "2" is not a whole number of 0 or more`). Every field the runner reads is
 * checked here, once, so a corrupted job fails with its reason instead of misbehaving later.
 */
export function parseEnvelope(text: string): JobEnvelope {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new PayloadDecodeError(`The job payload is not JSON (${errorMessage(error)}).`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PayloadDecodeError('The job payload is not a Herald job envelope (an object with uuid, job, data.event).')
  }
  const envelope = value as Partial<Record<keyof JobEnvelope, unknown>>
  checkEnvelope(envelope)
  const data = envelope.data as JobEnvelope['data']
  const defaults: Omit<JobEnvelope, 'uuid' | 'job' | 'data'> = {
    displayName: data.listener ?? data.event,
    attempts: 0,
    exceptions: 0,
    ...NO_JOB_OPTIONS,
    createdAt: 0,
  }
  // One spread onto the defaults (a second spread takes a slow path in V8).
  return Object.assign(defaults, envelope) as JobEnvelope
}

/** The envelope field that is not what Herald writes. */
function bad(field: string, value: unknown, expected: string): never {
  throw new PayloadDecodeError(`${describe(value)} is not ${expected}`, `envelope.${field}`)
}

/**
 * Throws a PayloadDecodeError for the first envelope field that is not what Herald writes. On
 * every job's path: plain comparisons, no closure or allocation per call.
 */
function checkEnvelope(envelope: Partial<Record<keyof JobEnvelope, unknown>>): void {
  if (typeof envelope.uuid !== 'string' || envelope.uuid === '') bad('uuid', envelope.uuid, 'a job id (a non-empty string)')
  const job = envelope.job
  if (job !== 'listener' && job !== 'event' && job !== 'broadcast' && job !== 'job') bad('job', envelope.job, 'a job kind ("listener", "event", "broadcast" or "job")')
  const data = envelope.data as Partial<Record<keyof JobEnvelope['data'], unknown>> | null | undefined
  if (data === null || typeof data !== 'object' || Array.isArray(data)) bad('data', data, 'an object (listener, event, payload)')
  if (typeof data!.event !== 'string') bad('data.event', data!.event, 'an event name (a string)')
  if (envelope.job === 'listener' ? typeof data!.listener !== 'string' : data!.listener !== undefined && typeof data!.listener !== 'string') {
    bad('data.listener', data!.listener, 'a listener name (a string)')
  }
  if (data!.method !== undefined && data!.method !== null && typeof data!.method !== 'string') bad('data.method', data!.method, 'a method name (a string)')
  if (envelope.displayName !== undefined && typeof envelope.displayName !== 'string') bad('displayName', envelope.displayName, 'a string')
  if (envelope.attempts !== undefined && !isCount(envelope.attempts)) bad('attempts', envelope.attempts, 'a whole number of 0 or more')
  if (envelope.exceptions !== undefined && !isCount(envelope.exceptions)) bad('exceptions', envelope.exceptions, 'a whole number of 0 or more')
  if (envelope.uncounted !== undefined && !isCount(envelope.uncounted)) bad('uncounted', envelope.uncounted, 'a whole number of 0 or more')
  if (envelope.maxTries != null && !isCount(envelope.maxTries)) bad('maxTries', envelope.maxTries, 'a whole number of 0 or more, or null')
  if (envelope.maxExceptions != null && !isCount(envelope.maxExceptions)) bad('maxExceptions', envelope.maxExceptions, 'a whole number of 0 or more, or null')
  if (envelope.backoff != null && !isSecondsList(envelope.backoff)) {
    bad('backoff', envelope.backoff, 'a list of seconds (numbers of 0 or more), or null')
  }
  if (envelope.timeout != null && !isSeconds(envelope.timeout)) bad('timeout', envelope.timeout, 'seconds (a number of 0 or more), or null')
  if (envelope.failOnTimeout !== undefined && typeof envelope.failOnTimeout !== 'boolean') bad('failOnTimeout', envelope.failOnTimeout, 'true or false')
  if (envelope.retryUntil != null && !Number.isFinite(envelope.retryUntil)) bad('retryUntil', envelope.retryUntil, 'epoch milliseconds, or null')
  if (envelope.createdAt !== undefined && !Number.isFinite(envelope.createdAt)) bad('createdAt', envelope.createdAt, 'epoch milliseconds')
  if (envelope.context !== undefined) checkContext(envelope.context)
  if (envelope.bus !== undefined && (envelope.bus === null || typeof envelope.bus !== 'object' || Array.isArray(envelope.bus))) bad('bus', envelope.bus, "the jobs layer's fields (an object)")
}

function checkContext(context: unknown): void {
  if (context === null || typeof context !== 'object' || Array.isArray(context)) bad('context', context, 'an event context (an object)')
  const carried = context as Partial<Record<keyof CarriedContext, unknown>>
  if (typeof carried.correlationId !== 'string') bad('context.correlationId', carried.correlationId, 'a string')
  if (carried.eventId !== null && typeof carried.eventId !== 'string') bad('context.eventId', carried.eventId, 'a string or null')
  if (carried.causationId !== null && typeof carried.causationId !== 'string') bad('context.causationId', carried.causationId, 'a string or null')
  if (carried.traceparent !== undefined && typeof carried.traceparent !== 'string') bad('context.traceparent', carried.traceparent, 'a string')
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

function isSecondsList(value: unknown): boolean {
  if (!Array.isArray(value)) return false
  for (let i = 0; i < value.length; i++) if (!isSeconds(value[i])) return false
  return true
}

function isSeconds(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

/** A bad field's value as a message shows it: JSON, cut short. */
function describe(value: unknown): string {
  if (value === undefined) return 'a missing value'
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** The payload of the event the envelope carries, rebuilt. */
export function decodePayload(envelope: JobEnvelope, registry: EventClassRegistry): unknown {
  return decodeValue(envelope.data.payload, registry)
}
