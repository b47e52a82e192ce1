/**
 * Issue 12, problem 7: the suite ended with "Unhandled Rejection: connect ECONNREFUSED
 * 127.0.0.1:1" after the /health test, on a busy machine. /health asks the BullMQ driver for
 * the queue's size; Redis is down, so the driver's BullMQ Queue is still starting up, waiting
 * for its connection. When the application shut down while that connection was between two
 * reconnection attempts (connecting again after a refusal), the driver closed the Queue (which
 * removes BullMQ's listeners) and then quit the connection: BullMQ's start-up then rejected
 * with the refusal and re-emitted it as an 'error' with no listener, an unhandled rejection
 * (in a server, a crash). The timing is made exact here: a port that refuses, then a server
 * on it that accepts and never answers, and the driver closed while connected but not ready.
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/foundation/logger.ts'
import { BullmqDriver } from '../../src/queue/drivers/bullmq-driver.ts'

/** A port nobody listens on (for now). */
async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** Lets the event loop go round, so that a rejection left unhandled is reported by now. */
async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve))
}

let silent: Server | null = null
const sockets = new Set<Socket>()
afterEach(async () => {
  for (const socket of sockets) socket.destroy()
  sockets.clear()
  await new Promise<void>((resolve) => (silent === null ? resolve() : silent.close(() => resolve())))
  silent = null
})

describe('BullmqDriver.close() while Redis is not ready', () => {
  it('leaves no unhandled rejection when its connection is mid-reconnect after a refusal', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const port = await closedPort()
      const lines: string[] = []
      const driver = new BullmqDriver('bullmq', { url: `redis://127.0.0.1:${port}`, prefix: `herald-test-${process.pid}`, logger: createLogger('debug', (line) => lines.push(line)) })
      // What /health does; the answer is abandoned, as /health's time limit abandons it.
      const sizing = driver.size('default').then(
        () => 'answered',
        (error: unknown) => error,
      )
      // First a refusal: BullMQ's start-up remembers it as the error to reject with.
      await expect.poll(() => lines.some((line) => line.includes('ECONNREFUSED')), { timeout: 30_000, interval: 10 }).toBe(true)
      // Then a server that accepts the next attempt and never answers: connected, not ready.
      const connected = new Promise<void>((resolve) => {
        silent = createServer((socket) => {
          sockets.add(socket)
          socket.on('error', () => {})
          resolve()
        })
      })
      await new Promise<void>((resolve) => silent!.listen(port, '127.0.0.1', resolve))
      await connected
      await driver.close()
      // The abandoned size settles (Connection is closed) or stays pending; either way nothing escapes.
      await Promise.race([sizing, turns(50)])
      await turns(20)
      expect(unhandled.map((reason) => (reason instanceof Error ? reason.message : String(reason)))).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
