import type { BroadcastConnectionConfig } from '../../foundation/config.ts'
import { UserError } from '../../foundation/errors.ts'
import { BROADCAST_CONTENT_TYPE, encodeBroadcastRequest, INTERNAL_BROADCAST_PATH, SIGNATURE_HEADER } from '../broadcast-signature.ts'
import type { BroadcastDriver, BroadcastMessage } from '../contracts.ts'
import type { BroadcastDriverContext } from '../driver-context.ts'

/** How long a post to the web server may take. */
const POST_TIMEOUT_MS = 10_000

/**
 * The embedded default: the socket.io server runs inside the web server. In that process a
 * broadcast goes straight to the server; in any other (a queue worker) it is posted to the
 * web server's internal endpoint, signed with APP_KEY, which verifies it and delivers it.
 */
export class SocketIoDriver implements BroadcastDriver {
  private readonly endpoint: string

  constructor(
    readonly connection: string,
    serverUrl: string,
    private readonly context: BroadcastDriverContext,
  ) {
    this.endpoint = new URL(INTERNAL_BROADCAST_PATH, serverUrl).href
  }

  async deliver(message: BroadcastMessage): Promise<void> {
    const server = this.context.localServer()
    if (server !== null) return server.deliver(message)
    await this.post(message)
  }

  async close(): Promise<void> {}

  private async post(message: BroadcastMessage): Promise<void> {
    const key = this.context.key()
    if (key === null || key === '') {
      throw new UserError(
        'APP_KEY is not set: broadcasting from a process without the socket.io server signs each broadcast with it; set APP_KEY in .env (the same value in every process), e.g. to the output of `openssl rand -base64 32`.',
      )
    }
    const { body, signature } = encodeBroadcastRequest(message, key)
    let response: Response
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': BROADCAST_CONTENT_TYPE, [SIGNATURE_HEADER]: signature },
        body,
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      })
    } catch (error) {
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)
      throw new Error(`Broadcasting "${message.event}" to ${this.endpoint} failed (${cause}): is the web server running at BROADCAST_SERVER_URL?`)
    }
    if (!response.ok) {
      const reason = (await response.text().catch(() => '')).trim() || response.statusText
      throw new Error(`Broadcasting "${message.event}" to ${this.endpoint} was refused with ${response.status}: ${reason}`)
    }
    await response.body?.cancel()
  }
}

export function createDriver(name: string, config: BroadcastConnectionConfig, context: BroadcastDriverContext): BroadcastDriver {
  if (config.driver !== 'socketio') throw new TypeError(`Connection "${name}" is not a socketio connection.`)
  return new SocketIoDriver(name, config.url, context)
}
