/**
 * A Redis of the test's own, for tests that stop and restart it: its own port and directory,
 * with an append-only file (fsync always), so a restart keeps what it held. Never the shared one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export class OwnRedis {
  private process: ChildProcess | null = null
  readonly dir = mkdtempSync(join(tmpdir(), 'herald-redis-'))

  constructor(readonly port: number) {}

  /** A Redis of its own on a free port, started. */
  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort())
    await redis.start()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts it (again, with what its append-only file holds) and resolves once it answers PING. */
  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir], {
      stdio: 'ignore',
    })
    this.process = child
    const deadline = Date.now() + 20_000
    while (spawnSync('redis-cli', ['-p', String(this.port), 'ping']).stdout?.toString().trim() !== 'PONG') {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited with ${child.exitCode}`)
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING within 20 s`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** Shuts it down (its append-only file keeps the data) and resolves once the process exited. */
  async stop(): Promise<void> {
    const child = this.process
    if (child === null || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave'])
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(killer)
    this.process = null
  }

  async remove(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
