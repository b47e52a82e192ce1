/**
 * A web server in a process of its own, as `artisan serve` runs one: an application booted
 * from its environment (BROADCAST_CONNECTION, REDIS_URL, BROADCAST_PREFIX, APP_KEY), its HTTP
 * kernel with the socket.io server wired to the broadcast manager. Prints `port <n>` once
 * listening; SIGTERM closes it and exits 0.
 *
 *   node --import tsx tests/support/broadcast-server-process.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bootApplication } from '../../src/index.ts'
import { createApplicationHttpKernel } from '../../src/http/http-kernel.ts'

const basePath = mkdtempSync(join(tmpdir(), 'herald-broadcast-server-'))
const app = await bootApplication({
  basePath,
  loadConfig: false,
  envFile: false,
  env: { ...process.env, EVENTS_DISCOVERY: 'false', QUEUE_CONNECTION: 'sync', LOG_LEVEL: 'silent', DB_DATABASE: join(basePath, 'db.sqlite') },
})
const kernel = await createApplicationHttpKernel(app)
const { port } = await kernel.listen(0, '127.0.0.1')
process.stdout.write(`port ${port}\n`)
process.once('SIGTERM', () => {
  void (async () => {
    await kernel.close()
    await app.shutdown()
    rmSync(basePath, { recursive: true, force: true })
    process.exit(0)
  })()
})
