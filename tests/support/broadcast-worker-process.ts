/**
 * A queue worker's side of broadcasting, in a process of its own: it boots an application from
 * its environment (BROADCAST_CONNECTION, APP_KEY, BROADCAST_SERVER_URL, REDIS_URL,
 * BROADCAST_PREFIX; QUEUE_CONNECTION=sync, so the ShouldBroadcast event goes through a queue
 * job that this process runs) and dispatches one broadcast event; no socket.io server runs
 * here, so the driver must reach the servers over HTTP or Redis.
 *
 *   node --import tsx tests/support/broadcast-worker-process.ts <channel> <orderId> [except-socket-id]
 *
 * Prints `sent` and exits 0 once the driver has handed the message over; on failure prints the
 * error's message on stderr and exits 1.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Channel, Dispatchable, ShouldBroadcast, broadcast, bootApplication, withSocketId } from '../../src/index.ts'

const [channel, orderId, except] = process.argv.slice(2)
if (channel === undefined || orderId === undefined) {
  process.stderr.write('usage: broadcast-worker-process.ts <channel> <orderId> [except-socket-id]\n')
  process.exit(2)
}

class OrderShipped extends ShouldBroadcast(Dispatchable) {
  constructor(readonly orderId: number) {
    super()
  }
  broadcastOn() {
    return new Channel(channel!)
  }
}

const basePath = mkdtempSync(join(tmpdir(), 'herald-broadcast-worker-'))
const app = await bootApplication({
  basePath,
  loadConfig: false,
  envFile: false,
  env: { ...process.env, EVENTS_DISCOVERY: 'false', QUEUE_CONNECTION: 'sync', LOG_LEVEL: 'silent', DB_DATABASE: join(basePath, 'db.sqlite') },
})
let code = 0
try {
  const event = new OrderShipped(Number(orderId))
  await withSocketId(except, () => (except === undefined ? broadcast(event) : broadcast(event).toOthers()))
  process.stdout.write('sent\n')
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  code = 1
} finally {
  await app.shutdown()
  rmSync(basePath, { recursive: true, force: true })
}
process.exit(code)
