/**
 * event:history and event:replay as a user runs them, in a copy of the project on its embedded
 * SQLite database with EVENTS_STORE_ENABLED: events dispatched by another process, listed,
 * replayed (not stored again, marked replaying), interrupted with SIGINT and resumed.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createApplication } from 'herald'
import { copyProject } from '../support/project-copy.ts'

const copy = copyProject()
const countLog = join(copy.root, 'counted.log')
const release = join(copy.root, 'release')
const env = {
  LOG_LEVEL: 'silent',
  DB_CONNECTION: 'sqlite',
  DB_DATABASE: 'database/events.sqlite',
  QUEUE_CONNECTION: 'sync',
  BROADCAST_CONNECTION: 'null',
  EVENTS_STORE_ENABLED: 'true',
  COUNT_LOG: countLog,
  RELEASE_FILE: release,
}

function artisan(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env: { ...process.env, ...env, ...extra }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 2) : 0, stdout, stderr }),
    )
  })
}

function counted(): string[] {
  return existsSync(countLog) ? readFileSync(countLog, 'utf8').trim().split('\n') : []
}

let ids: string[] = []

beforeAll(async () => {
  writeFileSync(
    join(copy.root, 'app/events/stock-counted.ts'),
    `import { Dispatchable } from 'herald'

export class StockCounted extends Dispatchable {
  static readonly tags = ['stock']
  constructor(readonly n: number) {
    super()
  }
}
`,
  )
  // Writes each event it handles (and whether it is a replay); holds event HOLD_AT until RELEASE_FILE exists.
  writeFileSync(
    join(copy.root, 'app/listeners/record-count.ts'),
    `import { appendFileSync, existsSync } from 'node:fs'
import { Listener, currentEventContext } from 'herald'
import { StockCounted } from '../events/stock-counted.ts'

export default class RecordCount extends Listener.for(StockCounted) {
  async handle(event: StockCounted) {
    appendFileSync(process.env.COUNT_LOG!, event.n + ' ' + (currentEventContext()?.replaying ? 'replay' : 'live') + '\\n')
    if (event.n === Number(process.env.HOLD_AT)) {
      while (!existsSync(process.env.RELEASE_FILE!)) await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}
`,
  )
  const migrated = await artisan(['migrate'])
  expect(migrated.stderr).toBe('')
  expect(migrated.stdout).toMatch(/create_stored_events_table/)

  // The listener also runs in this process, for the live dispatches.
  process.env.COUNT_LOG = countLog
  const app = createApplication({ basePath: copy.root, env, envFile: false })
  await app.boot()
  try {
    const StockCounted = app.make('events.discovery').events.get('StockCounted') as new (n: number) => object
    for (let n = 1; n <= 4; n++) await app.make('events').dispatch(new StockCounted(n))
    ids = (await app.make('events.store').history()).map((event) => event.id)
  } finally {
    await app.shutdown()
  }
  expect(counted()).toEqual(['1 live', '2 live', '3 live', '4 live'])
})
afterAll(() => copy.remove())

describe('event:history', () => {
  it('lists the stored events newest first, filters them, and prints JSON', async () => {
    const run = await artisan(['event:history'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^ID\s+Time\s+Name\s+Correlation$/)
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual([...ids].reverse())
    expect(lines[1]).toMatch(new RegExp(`^${ids[3]}  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  StockCounted  ${ids[3]}$`))

    const limited = await artisan(['event:history', '--event=StockCounted,Other', '--limit=2', '--since=2000-01-01', '--json'])
    const json = JSON.parse(limited.stdout) as Array<{ id: string; name: string; tags: string[]; payload: unknown }>
    expect(json.map((event) => event.id)).toEqual([ids[3], ids[2]])
    expect(json[0]).toMatchObject({ name: 'StockCounted', tags: ['stock'], payload: { $t: 'Event', name: 'StockCounted', v: { n: 4 } } })

    expect((await artisan(['event:history', '--until=2000-01-01'])).stdout).toBe('No stored events.\n')
  })

  it('answers bad input with one line and exit 1', async () => {
    for (const args of [['--since=yesterday'], ['--limit=0'], ['--since=2026-02-01', '--until=2026-01-01']]) {
      const run = await artisan(['event:history', ...args])
      expect(run.code).toBe(1)
      expect(run.stdout).toBe('')
      expect(run.stderr.trim().split('\n')).toHaveLength(1)
    }
    expect((await artisan(['event:history', '--since=yesterday'])).stderr).toContain('--since must be an ISO date such as 2026-11-23')
  })
})

describe('event:replay', () => {
  it('--dry-run lists what would be replayed; a replay runs the listeners, marked replaying, and stores nothing', async () => {
    const dry = await artisan(['event:replay', '--dry-run', `--from=${ids[1]}`])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('Would replay 3 event(s).')
    expect(dry.stdout).not.toContain(ids[0])

    const before = counted().length
    const run = await artisan(['event:replay', '--event=StockCounted', '--listener=RecordCount'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    for (const id of ids) expect(run.stdout).toMatch(new RegExp(`^  ${id} StockCounted DONE$`, 'm'))
    expect(run.stdout).toContain('Replayed 4, failed 0.')
    expect(counted().slice(before)).toEqual(['1 replay', '2 replay', '3 replay', '4 replay'])
    expect(JSON.parse((await artisan(['event:history', '--json'])).stdout)).toHaveLength(4)

    const unknown = await artisan(['event:replay', '--listener=Nope'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe('Listener "Nope" is not registered: see artisan event:list for the names.\n')
    const bad = await artisan(['event:replay', '--from=last-week'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('--from must be an event id (from event:history) or an ISO date')
  })

  it('SIGINT stops after the event in hand and names where to resume; --from that id replays the rest', async () => {
    const before = counted().length
    const child = spawn(process.execPath, ['bin/artisan', 'event:replay', '--listener=RecordCount'], { cwd: copy.root, env: { ...process.env, ...env, HOLD_AT: '2' } })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    // Event 2's listener is holding: interrupt, then let it finish.
    await vi.waitFor(() => expect(counted().slice(before)).toEqual(['1 replay', '2 replay']), { timeout: 30_000, interval: 20 })
    child.kill('SIGINT')
    await vi.waitFor(() => expect(stdout).toContain('Stopping after the event in hand…'), { timeout: 30_000, interval: 20 })
    writeFileSync(release, '')
    expect(await exited).toBe(130)
    expect(stdout).toContain('Replayed 2, failed 0.')
    expect(stdout).toContain(`Interrupted before ${ids[2]}: resume with --from=${ids[2]}`)
    expect(counted().slice(before)).toEqual(['1 replay', '2 replay'])

    const rest = await artisan(['event:replay', '--listener=RecordCount', `--from=${ids[2]}`])
    expect(rest.code).toBe(0)
    expect(rest.stdout).toContain('Replayed 2, failed 0.')
    expect(counted().slice(before)).toEqual(['1 replay', '2 replay', '3 replay', '4 replay'])
  })
})
