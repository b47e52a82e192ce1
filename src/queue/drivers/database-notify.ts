import { createHash } from 'node:crypto'
import { pause, reconnectDelay, type ReconnectPolicy } from '../reconnect.ts'

/**
 * The wake-up of the database queue across processes, on PostgreSQL: a push sends `NOTIFY` on
 * its queue's channel (in its own statement, so inside a transaction the notification goes out
 * when it commits, and never if it rolls back), and an idle worker `LISTEN`s on one dedicated
 * connection and polls as soon as one arrives. If that connection drops, the worker keeps
 * polling at its sleep interval and listens again once it can reconnect.
 */

/** PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1): longer channel names are refused. */
const MAX_CHANNEL_BYTES = 63

/** The channel of one queue of one jobs table: `herald:jobs:default`, hashed if it would be too long. */
export function channelFor(table: string, queue: string): string {
  const name = `herald:${table}:${queue}`
  if (Buffer.byteLength(name) <= MAX_CHANNEL_BYTES) return name
  return `herald:${createHash('sha1').update(name).digest('hex')}`
}

/** `LISTEN "name"`: the channel quoted as an identifier. */
export function listenStatement(channel: string): string {
  return `listen "${channel.replaceAll('"', '""')}"`
}

/** A raw `pg` client, as knex's pg dialect opens it outside its pool. */
export interface PgClient {
  query(text: string): Promise<unknown>
  on(event: 'notification', listener: () => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'end', listener: () => void): unknown
  removeAllListeners(event?: string): unknown
}

/** Opening and closing the dedicated connection (knex's `acquireRawConnection`, `destroyRawConnection`). */
export interface RawConnections {
  open(): Promise<PgClient>
  close(client: PgClient): Promise<void>
}

/**
 * Keeps one LISTEN connection for a consumer until `stop` aborts. `wake` runs on every
 * notification, and also once the connection is (re)established, since a push may have come
 * while it was down. Each failure to connect or listen, and each drop, is handed to `failed`,
 * then tried again with backoff; meanwhile the consumer polls every sleep interval. Resolves
 * once stopped and the connection is closed; never rejects.
 */
export async function listen(
  connections: RawConnections,
  channels: readonly string[],
  wake: () => void,
  /** The connection failed (the caller tells an outage apart from a bug, and says it once). */
  failed: (error: unknown) => void,
  policy: ReconnectPolicy,
  stop: AbortSignal,
): Promise<void> {
  let failures = 0
  while (!stop.aborted) {
    let client: PgClient | null = null
    try {
      client = await connections.open()
      const dropped = new Promise<Error | null>((resolve) => {
        client!.on('error', (error) => resolve(error))
        client!.on('end', () => resolve(null))
      })
      client.on('notification', wake)
      for (const channel of channels) await client.query(listenStatement(channel))
      failures = 0
      wake()
      const ended = await Promise.race([dropped, aborted(stop)])
      if (ended === STOPPED) break
      throw ended ?? new Error('the connection ended')
    } catch (error) {
      if (stop.aborted) break
      failures++
      failed(error)
      await pause(reconnectDelay(failures, policy), stop)
    } finally {
      if (client !== null) {
        client.removeAllListeners('notification')
        // A client that failed may still emit: keep an error handler on it.
        client.removeAllListeners('error')
        client.on('error', () => {})
        await connections.close(client).catch(() => {})
      }
    }
  }
}

const STOPPED: unique symbol = Symbol('stopped')

function aborted(signal: AbortSignal): Promise<typeof STOPPED> {
  if (signal.aborted) return Promise.resolve(STOPPED)
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(STOPPED), { once: true }))
}
