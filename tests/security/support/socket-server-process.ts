/**
 * A web server in a process of its own, as `artisan serve` runs one (its application booted
 * from the environment it is given, e.g. BROADCAST_MAX_FRAME_BYTES), so a test can measure the
 * server's heap without its own client-side allocations in the number. Run with --expose-gc
 * over IPC (child_process.fork):
 *
 *   → { type: 'listening', port }                       once listening
 *   ← { type: 'measure' }  → { type: 'measured', heapUsed, rooms }   after a full GC
 *   ← { type: 'close' }    closes the server and exits 0
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bootApplication } from '../../../src/index.ts'
import { createApplicationHttpKernel } from '../../../src/http/http-kernel.ts'

export interface Measured {
  readonly type: 'measured'
  /** process.memoryUsage().heapUsed after collecting garbage. */
  readonly heapUsed: number
  /** Every room socket.io holds (each socket's own id included). */
  readonly rooms: string[]
}

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined || process.send === undefined) throw new Error('Run me with --expose-gc through child_process.fork().')
const send = process.send.bind(process)

const basePath = mkdtempSync(join(tmpdir(), 'herald-socket-limits-'))
const app = await bootApplication({
  basePath,
  loadConfig: false,
  envFile: false,
  env: { ...process.env, EVENTS_DISCOVERY: 'false', QUEUE_CONNECTION: 'sync', LOG_LEVEL: 'silent', DB_DATABASE: join(basePath, 'db.sqlite') },
})
const kernel = await createApplicationHttpKernel(app)
const { port } = await kernel.listen(0, '127.0.0.1')
send({ type: 'listening', port })

process.on('message', (message: { type?: string }) => {
  if (message.type === 'measure') {
    // Twice: the first pass can leave what finalizers released for the second.
    gc()
    gc()
    const measured: Measured = { type: 'measured', heapUsed: process.memoryUsage().heapUsed, rooms: [...kernel.echo.io.sockets.adapter.rooms.keys()] }
    send(measured)
  } else if (message.type === 'close') {
    void (async () => {
      await kernel.close()
      await app.shutdown()
      rmSync(basePath, { recursive: true, force: true })
      process.exit(0)
    })()
  }
})
