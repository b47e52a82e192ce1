import type { BroadcastOptions } from '../events/contracts.ts'
import { Channel } from './channels.ts'
import type { BroadcastMessage } from './contracts.ts'
import { errorMessage } from '../foundation/error-message.ts'

/** Properties that configure the broadcast rather than describe the event: never in the payload. */
const OPTION_KEYS: ReadonlySet<string> = new Set(['broadcastQueue'])

/** JSON.stringify's view of values JSON has no form for: BigInt as text, Map as an object, Set as a list. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Map) return Object.fromEntries(value)
  if (value instanceof Set) return [...value]
  return value
}

/**
 * The payload as every client will see it, whatever the driver: plain JSON (Dates as ISO
 * strings, as `toJSON` gives them), so an in-process delivery cannot differ from one that
 * crossed Redis or HTTP.
 */
export function jsonSafe(eventName: string, value: unknown): Record<string, unknown> {
  let text: string | undefined
  try {
    text = JSON.stringify(value, jsonReplacer)
  } catch (error) {
    throw new TypeError(
      `The broadcast payload of "${eventName}" cannot be turned into JSON (${errorMessage(error)}): return plain data from broadcastWith().`,
    )
  }
  const parsed: unknown = text === undefined ? {} : JSON.parse(text)
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TypeError(`broadcastWith() of "${eventName}" must return an object, got ${text}.`)
  }
  return parsed as Record<string, unknown>
}

/** An event's own enumerable data, without methods and broadcast options: Laravel's public properties. */
function publicData(event: object): Record<string, unknown> {
  const data: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(event)) {
    if (typeof value !== 'function' && !OPTION_KEYS.has(key)) data[key] = value
  }
  return data
}

function wireName(eventName: string, channel: unknown): string {
  if (channel instanceof Channel) return channel.wireName
  if (typeof channel === 'string' && channel !== '') return channel
  throw new TypeError(
    `broadcastOn() of "${eventName}" returned ${String(channel)}: return a Channel, PrivateChannel or PresenceChannel, or a list of them.`,
  )
}

/**
 * What a ShouldBroadcast event sends, or null when it sends nothing (`broadcastWhen()` said
 * false, or `broadcastOn()` named no channel). Read once, in the dispatching process, where the
 * event is the one the application built: the queued job then carries this message, so a
 * worker needs neither the event class nor its constructor.
 */
export function broadcastMessage(eventName: string, event: object, except: string | null): BroadcastMessage | null {
  const options = event as Partial<BroadcastOptions>
  if (typeof options.broadcastWhen === 'function' && !options.broadcastWhen()) return null
  if (typeof options.broadcastOn !== 'function') {
    throw new TypeError(`Broadcast event "${eventName}" has no broadcastOn() method: return the channels it is broadcast on.`)
  }
  const on: unknown = options.broadcastOn()
  const channels = [...new Set((Array.isArray(on) ? on : [on]).map((channel: unknown) => wireName(eventName, channel)))]
  if (channels.length === 0) return null
  const name = typeof options.broadcastAs === 'function' ? options.broadcastAs() : eventName
  const data = jsonSafe(eventName, typeof options.broadcastWith === 'function' ? options.broadcastWith() : publicData(event))
  return except === null ? { channels, event: name, data } : { channels, event: name, data, except }
}
