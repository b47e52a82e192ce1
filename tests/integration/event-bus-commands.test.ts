/**
 * `artisan event-bus:work` and `event-bus:status` as a user runs them, in a copy of the project
 * against the real Redis: the worker consumes the subscriptions an app provider registers and
 * exits 0 on SIGTERM; status lists the stream and group; the local driver is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApplication } from 'herald'
import { copyProject } from '../support/project-copy.ts'
import { dropPrefix, uniquePrefix } from '../support/event-bus-redis.ts'

let copy: ReturnType<typeof copyProject>
const prefix = uniquePrefix()
let env: Record<string, string>
const children: ChildProcess[] = []

function run(args: string[], extra: Record<string, string> = {}): ChildProcess & { out: string[] } {
  const child = spawn(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env: { ...process.env, ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  const out: string[] = []
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => out.push(chunk.toString()))
  return Object.assign(child, { out })
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

beforeAll(async () => {
  copy = copyProject()
  const log = join(copy.root, 'bus.log')
  env = {
    EVENT_BUS_DRIVER: 'redis',
    EVENT_BUS_PREFIX: prefix,
    EVENT_BUS_SERVICE: 'reports',
    EVENT_BUS_CLAIM_IDLE: '2000',
    DB_DATABASE: join(copy.root, 'database', 'database.sqlite'),
    BUS_TEST_LOG: log,
    LOG_LEVEL: 'warn',
  }
  writeFileSync(
    join(copy.root, 'app', 'providers', 'bus-test-provider.ts'),
    `import { appendFileSync } from 'node:fs'
import { EventBus, ServiceProvider } from 'herald'
export default class BusTestProvider extends ServiceProvider {
  override boot(): void {
    EventBus.subscribe('report.requested', (event, delivery) => appendFileSync(process.env.BUS_TEST_LOG!, JSON.stringify({ event, source: delivery.source }) + '\\n'))
  }
}
`,
  )
  const appConfig = join(copy.root, 'config', 'app.ts')
  writeFileSync(
    appConfig,
    readFileSync(appConfig, 'utf8')
      .replace("import AppServiceProvider from '../app/providers/app-service-provider.ts'", "import AppServiceProvider from '../app/providers/app-service-provider.ts'\nimport BusTestProvider from '../app/providers/bus-test-provider.ts'")
      .replace('providers: [AppServiceProvider]', 'providers: [AppServiceProvider, BusTestProvider]'),
  )
  const migrate = run(['migrate'])
  expect(await exited(migrate), migrate.out.join('')).toBe(0)
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await dropPrefix(prefix)
  copy?.remove()
})

describe('artisan event-bus:work and event-bus:status', () => {
  it('consumes the app’s subscriptions, shows them in status, and exits 0 on SIGTERM', async () => {
    const worker = run(['event-bus:work'])
    await expect.poll(() => worker.out.join(''), { timeout: 30_000, interval: 50 }).toMatch(/Consuming \[report\.requested\] as service "reports"/)

    const app = createApplication({ basePath: copy.root, env: { ...env, EVENT_BUS_SERVICE: 'web' }, envFile: false })
    await app.boot()
    try {
      await app.make('event-bus').publish('report.requested', { month: '2026-11' })
    } finally {
      await app.shutdown()
    }
    const log = env.BUS_TEST_LOG!
    await expect.poll(() => (existsSync(log) ? readFileSync(log, 'utf8') : ''), { timeout: 20_000, interval: 50 }).toBe(`${JSON.stringify({ event: { month: '2026-11' }, source: 'web' })}\n`)

    const status = run(['event-bus:status', '--json'])
    expect(await exited(status), status.out.join('')).toBe(0)
    const report = JSON.parse(status.out.join('')) as { driver: string; service: string; outbox: number; streams: Array<Record<string, unknown>> }
    expect(report).toMatchObject({ driver: 'redis', service: 'reports', outbox: 0 })
    expect(report.streams).toEqual([{ stream: `${prefix}report.requested`, length: 1, group: 'reports', consumers: 1, pending: 0, lag: 0 }])

    worker.kill('SIGTERM')
    expect(await exited(worker), worker.out.join('')).toBe(0)
    expect(worker.out.join('')).toMatch(/Stopped\./)
  })

  it('refuses to run on the local driver, naming the setting', async () => {
    const worker = run(['event-bus:work'], { EVENT_BUS_DRIVER: 'local' })
    expect(await exited(worker)).toBe(1)
    expect(worker.out.join('')).toMatch(/Set EVENT_BUS_DRIVER=redis/)
  })
})
