import { randomUUID } from 'node:crypto'
import { carriedContext, type CarriedContext } from '../events/event-context.ts'
import { decodeValue, encodeValue, PayloadDecodeError, type EventClassRegistry } from './serializer.ts'

/**
 * One job, as every driver stores it: JSON, the same for sync, database and BullMQ, so
 * failed jobs can be retried on any connection.
 */
export interface JobEnvelope {
  readonly uuid: string
  /** What `queue:work` and `queue:failed` show: the listener's or the event's name. */
  readonly displayName: string
  /**
   * A queued listener, a ShouldQueue event dispatched as a whole, or a ShouldBroadcast event's
   * message (data.payload, a BroadcastMessage) for the worker's broadcast connection.
   */
  readonly job: 'listener' | 'event' | 'broadcast'
  readonly data: {
    /** The listener's registered name (job 'listener'). */
    readonly listener?: string
    /** The routed method of a subscriber-style listener, if not `handle`. */
    readonly method?: string | null
    readonly event: string
    /** The event (or payload), encoded by the serializer. */
    readonly payload: unknown
  }
  /** Attempts made before this delivery. */
  readonly attempts: number
  /** Exceptions thrown so far (for maxExceptions; a release is an attempt, not an exception). */
  readonly exceptions: number
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
}

/** The options of a job that sets none of its own: the worker's defaults apply. */
export const NO_JOB_OPTIONS = {
  maxTries: null,
  maxExceptions: null,
  backoff: null,
  timeout: null,
  failOnTimeout: false,
  retryUntil: null,
} as const satisfies Partial<JobEnvelope>

export type EnvelopeInput = Omit<JobEnvelope, 'uuid' | 'attempts' | 'exceptions' | 'createdAt' | 'data' | 'context'> & {
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

/** A stored payload's job name for lists and logs, even when it cannot be decoded. */
export function jobDisplayName(payload: string): string {
  try {
    const envelope = JSON.parse(payload) as { displayName?: unknown }
    return typeof envelope.displayName === 'string' ? envelope.displayName : '(unknown job)'
  } catch {
    return '(undecodable job)'
  }
}

/** Parses a stored payload; anything malformed is a PayloadDecodeError naming what is wrong. */
export function parseEnvelope(text: string): JobEnvelope {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new PayloadDecodeError(`The job payload is not JSON (${error instanceof Error ? error.message : String(error)}).`)
  }
  const envelope = value as Partial<JobEnvelope> | null
  if (
    envelope === null ||
    typeof envelope !== 'object' ||
    typeof envelope.uuid !== 'string' ||
    (envelope.job !== 'listener' && envelope.job !== 'event' && envelope.job !== 'broadcast') ||
    typeof envelope.data !== 'object' ||
    envelope.data === null ||
    typeof envelope.data.event !== 'string'
  ) {
    throw new PayloadDecodeError('The job payload is not a Herald job envelope (uuid, job, data.event are required).')
  }
  const defaults: Omit<JobEnvelope, 'uuid' | 'job' | 'data'> = {
    displayName: envelope.data.listener ?? envelope.data.event,
    attempts: 0,
    exceptions: 0,
    ...NO_JOB_OPTIONS,
    createdAt: 0,
  }
  // One spread onto the defaults (a second spread takes a slow path in V8).
  return Object.assign(defaults, envelope) as JobEnvelope
}

/** The payload of the event the envelope carries, rebuilt. */
export function decodePayload(envelope: JobEnvelope, registry: EventClassRegistry): unknown {
  return decodeValue(envelope.data.payload, registry)
}
