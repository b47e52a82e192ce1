import { currentEventContext } from '../event-context.ts'
import type { Redactor } from '../redaction.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/**
 * One event as the ready-made handlers write it: a log line's JSON, a line of the JSON-lines
 * file, a webhook's body. `id` and `correlation_id` are the dispatch's (see the handlers'
 * provider, which makes sure every dispatch has them); `payload` is redacted.
 */
export interface EventDocument {
  readonly id?: string
  readonly name: string
  readonly occurred_at: string
  readonly correlation_id?: string
  readonly payload: unknown
}

/** The document of the event whose listeners are running now. */
export function eventDocument(name: string, payload: unknown, redact: Redactor): EventDocument {
  const context = currentEventContext()
  return {
    ...(context?.eventId != null && { id: context.eventId }),
    name,
    occurred_at: new Date().toISOString(),
    ...(context !== undefined && { correlation_id: context.correlationId }),
    payload: redact(payload) ?? null,
  }
}

/**
 * JSON of anything an event carries: BigInt as a string, Map as an object, Set as an array
 * (JSON.stringify throws on the first and writes `{}` for the others). A cycle is reported in
 * place of the document rather than thrown at the dispatch.
 */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value, replacer)
  } catch (error) {
    return JSON.stringify({ unserializable: errorMessage(error) })
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Map) return Object.fromEntries([...value].map(([key, item]) => [String(key), item]))
  if (value instanceof Set) return [...value]
  return value
}
