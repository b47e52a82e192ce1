import { defaultBroadcastLimits, type BroadcastLimits } from '../foundation/config.ts'
import { Env } from '../foundation/env.ts'
import { UserError } from '../foundation/errors.ts'

/**
 * The checks that keep one socket from making the server hold more than a bound: every frame a
 * client sends (subscribe, unsubscribe, client event) is read here first, whatever JSON it
 * carries, and either yields the strings the server needs or a refusal with the status the
 * socket gets in `subscription_error (channel, status)`.
 */

/** What the server answers a refused frame with, and why (for the debug log). */
export interface Refusal {
  readonly ok: false
  /** The channel as the client named it, cut to the name limit; null when it sent no string. */
  readonly channel: string | null
  readonly status: RefusalStatus
  readonly reason: string
}

/**
 * 400 a frame that is not `{ channel: "<name>" }` (or, for a client event, without a string
 * `event`, or with data nested too deep); 413 too many channels on the socket, or a client
 * event too large; 414 a channel or client event name too long; 429 too many subscribes.
 */
export type RefusalStatus = 400 | 413 | 414 | 429

export type Read<T> = ({ readonly ok: true } & T) | Refusal

/** How deep a whisper's data may nest: deeper data could overflow socket.io's recursive encoder when forwarded. */
const MAX_DEPTH = 32

/** The framework's defaults (config.ts), for a server created without config. */
export const DEFAULT_LIMITS: BroadcastLimits = defaultBroadcastLimits(new Env({}))

/** The limits with defaults for what is missing, each checked: a bad one is a one-line error naming its setting. */
export function resolveLimits(given: Partial<BroadcastLimits> = {}): BroadcastLimits {
  const limits: BroadcastLimits = {
    ...DEFAULT_LIMITS,
    ...given,
    subscribeRate: { ...DEFAULT_LIMITS.subscribeRate, ...given.subscribeRate },
  }
  positive(limits.channelsPerSocket, 'channelsPerSocket', 'BROADCAST_MAX_CHANNELS', true)
  positive(limits.channelNameLength, 'channelNameLength', 'BROADCAST_MAX_CHANNEL_NAME', true)
  positive(limits.subscribeRate.points, 'subscribeRate.points', 'BROADCAST_SUBSCRIBE_RATE', true)
  positive(limits.subscribeRate.seconds, 'subscribeRate.seconds', 'BROADCAST_SUBSCRIBE_RATE_SECONDS', false)
  positive(limits.clientEventBytes, 'clientEventBytes', 'BROADCAST_MAX_CLIENT_EVENT_BYTES', true)
  positive(limits.frameBytes, 'frameBytes', 'BROADCAST_MAX_FRAME_BYTES', true)
  return limits
}

function positive(value: number, name: string, envKey: string, whole: boolean): void {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0 && (!whole || Number.isInteger(value))) return
  const kind = whole ? 'a whole number above 0' : 'a number above 0'
  throw new UserError(`broadcasting.limits.${name} (${envKey}) must be ${kind}, got ${String(value)}: fix it in config/broadcasting.ts or .env.`)
}

/** The channel of a subscribe or unsubscribe frame: `{ channel: "<name>", ... }` with a name within the limit. */
export function readChannel(payload: unknown, limits: BroadcastLimits): Read<{ channel: string }> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return refuse(null, 400, 'the frame is not an object { channel, auth }')
  }
  return checkName((payload as { channel?: unknown }).channel, 'channel', limits)
}

/** A client event (whisper) frame: `{ channel, event, data }`, names within the limit. The data's size is {@link checkClientData}'s. */
export function readClientEvent(payload: unknown, limits: BroadcastLimits): Read<{ channel: string; event: string; data: unknown }> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return refuse(null, 400, 'the client event is not an object { channel, event, data }')
  }
  const { channel, event, data } = payload as { channel?: unknown; event?: unknown; data?: unknown }
  const name = checkName(channel, 'channel', limits)
  if (!name.ok) return name
  const eventName = checkName(event, 'event', limits)
  if (!eventName.ok) return { ...eventName, channel: name.channel }
  return { ok: true, channel: name.channel, event: eventName.channel, data }
}

/** Null when the whisper's data is within the depth and byte limits, else the refusal. */
export function checkClientData(channel: string, data: unknown, limits: BroadcastLimits): Refusal | null {
  if (depthOver(data, MAX_DEPTH)) return refuse(channel, 400, `the client event's data nests deeper than ${MAX_DEPTH} levels`)
  let json: string | undefined
  try {
    json = JSON.stringify(data)
  } catch {
    return refuse(channel, 400, "the client event's data cannot be encoded as JSON")
  }
  const bytes = json === undefined ? 0 : Buffer.byteLength(json)
  if (bytes > limits.clientEventBytes) {
    return refuse(channel, 413, `the client event's data is ${bytes} bytes, over the limit of ${limits.clientEventBytes} (BROADCAST_MAX_CLIENT_EVENT_BYTES)`)
  }
  return null
}

/** A refusal for a subscribe over the socket's channel limit. */
export function tooManyChannels(channel: string, limits: BroadcastLimits): Refusal {
  return refuse(channel, 413, `the socket is already in ${limits.channelsPerSocket} channels, the limit (BROADCAST_MAX_CHANNELS)`)
}

/** A refusal for a subscribe over the socket's rate. */
export function tooManySubscribes(channel: string, limits: BroadcastLimits): Refusal {
  const { points, seconds } = limits.subscribeRate
  return refuse(channel, 429, `more than ${points} subscribes in ${seconds} s (BROADCAST_SUBSCRIBE_RATE)`)
}

function checkName(value: unknown, what: 'channel' | 'event', limits: BroadcastLimits): Read<{ channel: string }> {
  if (typeof value !== 'string' || value === '') return refuse(null, 400, `the ${what} name is not a non-empty string`)
  if (value.length > limits.channelNameLength) {
    return refuse(
      value.slice(0, limits.channelNameLength),
      414,
      `the ${what} name has ${value.length} characters, over the limit of ${limits.channelNameLength} (BROADCAST_MAX_CHANNEL_NAME)`,
    )
  }
  return { ok: true, channel: value }
}

function refuse(channel: string | null, status: RefusalStatus, reason: string): Refusal {
  return { ok: false, channel, status, reason }
}

/** Whether `value` nests deeper than `max` arrays/objects, walked without recursion so no input can overflow the stack. */
function depthOver(value: unknown, max: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }]
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!
    if (current === null || typeof current !== 'object' || ArrayBuffer.isView(current) || current instanceof ArrayBuffer) continue
    if (depth >= max) return true
    for (const child of Object.values(current)) stack.push({ value: child, depth: depth + 1 })
  }
  return false
}
