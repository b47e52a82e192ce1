/**
 * `npm run chaos`: Herald's queue under real failures, one table at the end (issue 12).
 *
 * Each scenario dispatches JOBS events to a queued listener in a copy of the project, runs two
 * real `artisan queue:work` processes on it, does harm while they work, and waits until every
 * job has run. The listener writes a `start` and a `done` line per attempt (job number, pid,
 * time), so the script can tell, from what happened and not from what a worker says:
 * - lost: jobs never done; duplicates: jobs done more than once (at-least-once allows a job in
 *   hand when its worker died to run again);
 * - re-delivery: for each job in the hands of a killed worker, from the kill to its next start;
 * - restarted by hand: workers that exited on their own (not killed by the script) and had to be
 *   started again. A worker the script killed is started again at once, as a process manager
 *   would; that is not counted.
 *
 * Scenarios: kill -9 of a worker six times (SQLite, PostgreSQL, BullMQ); Redis shut down and
 * restarted twice under load; every PostgreSQL backend of the queue's database terminated six
 * times; garbage written straight into each queue (which must land in failed jobs, and harm no
 * worker). Redis is a server of the script's own (its own port, append-only file, a temp dir),
 * so the machine's Redis is untouched; PostgreSQL scenarios use a database of their own.
 *
 * Targets: lost 0, restarted by hand 0, re-delivery at most 15 s. Exit 1 when one is missed.
 * CHAOS_JOBS (default 2000) and CHAOS_ONLY=kill-sqlite,redis-restart,… change the run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import knexFactory, { type Knex } from 'knex'
import { createApplication } from '../src/index.ts'
import { PG } from './support/services.ts'

const JOBS = Number(process.env.CHAOS_JOBS ?? 2000)
const ONLY = process.env.CHAOS_ONLY?.split(',').map((name) => name.trim()) ?? null
const REDELIVERY_TARGET_MS = 15_000
const root = fileURLToPath(new URL('..', import.meta.url))

interface Row {
  scenario: string
  dispatched: number
  processed: number
  lost: number
  duplicates: number
  redeliveryMs: number | null
  quarantined: string
  restartedByHand: number
  seconds: number
}

// ---------------------------------------------------------------------------------------------
// The project copy, with a listener that records every attempt.

function copyProject(): string {
  const copy = mkdtempSync(join(tmpdir(), 'herald-chaos-'))
  const skipped = new Set(['node_modules', '.git', '.ci/results', 'tests', 'bench', 'database/database.sqlite'])
  cpSync(root, copy, { recursive: true, filter: (source) => !skipped.has(relative(root, source).split(sep).join('/')) })
  mkdirSync(join(copy, 'node_modules'))
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry !== '.cache') symlinkSync(join(root, 'node_modules', entry), join(copy, 'node_modules', entry))
  }
  writeFileSync(
    join(copy, 'app/listeners/chaos-recorder.ts'),
    `import { appendFileSync } from 'node:fs'
import { Listener, ShouldQueue } from 'herald'

export default class ChaosRecorder extends ShouldQueue(Listener.for('chaos.job')) {
  tries = 50
  queue(payload: { queue: string }) {
    return payload.queue
  }
  async handle(payload: { n: number; log: string }) {
    appendFileSync(payload.log, 'start ' + payload.n + ' ' + process.pid + ' ' + Date.now() + '\\n')
    await new Promise((resolve) => setTimeout(resolve, 25))
    appendFileSync(payload.log, 'done ' + payload.n + ' ' + process.pid + ' ' + Date.now() + '\\n')
  }
}
`,
  )
  return copy
}

interface Attempt {
  readonly kind: 'start' | 'done'
  readonly n: number
  readonly pid: number
  readonly at: number
}

function attempts(log: string): Attempt[] {
  if (!existsSync(log)) return []
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [kind, n, pid, at] = line.split(' ')
      return { kind: kind as 'start' | 'done', n: Number(n), pid: Number(pid), at: Number(at) }
    })
}

function doneCount(log: string): number {
  return new Set(attempts(log).filter((a) => a.kind === 'done').map((a) => a.n)).size
}

// ---------------------------------------------------------------------------------------------
// Workers under a supervisor.

interface Kill {
  readonly pid: number
  readonly at: number
}

class Supervisor {
  readonly kills: Kill[] = []
  restartedByHand = 0
  private readonly workers = new Set<ChildProcess>()
  private readonly killed = new Set<number>()
  private stopping = false
  readonly transcript: string[] = []

  constructor(
    private readonly copy: string,
    private readonly env: Record<string, string>,
    private readonly queue: string,
  ) {}

  start(count: number): void {
    for (let i = 0; i < count; i++) this.spawn()
  }

  get pids(): number[] {
    return [...this.workers].map((worker) => worker.pid!).filter((pid) => pid !== undefined)
  }

  private spawn(): void {
    const child = spawn(process.execPath, ['bin/artisan', 'queue:work', `--queue=${this.queue}`, '--concurrency=4', '--sleep=0.05', '--tries=50'], {
      cwd: this.copy,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    this.workers.add(child)
    child.stderr?.on('data', (chunk: Buffer) => this.transcript.push(chunk.toString()))
    child.once('exit', (code) => {
      this.workers.delete(child)
      if (this.stopping) return
      const killed = this.killed.delete(child.pid ?? -1)
      if (!killed) {
        this.restartedByHand++
        this.transcript.push(`worker ${child.pid} exited on its own with ${code}\n`)
      }
      this.spawn()
    })
  }

  /** SIGKILLs one worker (the oldest), noting when. */
  killOne(): void {
    const [worker] = this.workers
    if (worker?.pid === undefined) return
    this.killed.add(worker.pid)
    this.kills.push({ pid: worker.pid, at: Date.now() })
    worker.kill('SIGKILL')
  }

  async stop(): Promise<void> {
    this.stopping = true
    await Promise.all(
      [...this.workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            const force = setTimeout(() => worker.kill('SIGKILL'), 20_000)
            worker.once('exit', () => {
              clearTimeout(force)
              resolve()
            })
            worker.kill('SIGTERM')
          }),
      ),
    )
  }
}

/** Longest time from a kill to the next start of a job the killed worker had started and not finished. */
function longestRedelivery(log: string, kills: readonly Kill[]): number | null {
  if (kills.length === 0) return null
  const all = attempts(log)
  let longest = 0
  for (const kill of kills) {
    const started = new Set(all.filter((a) => a.pid === kill.pid && a.kind === 'start').map((a) => a.n))
    for (const a of all) if (a.pid === kill.pid && a.kind === 'done') started.delete(a.n)
    for (const n of started) {
      const next = all.find((a) => a.n === n && a.kind === 'start' && a.pid !== kill.pid && a.at >= kill.at)
      longest = Math.max(longest, (next?.at ?? Date.now()) - kill.at)
    }
  }
  return longest
}

// ---------------------------------------------------------------------------------------------
// Services of the script's own.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

class OwnRedis {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), mkdtempSync(join(tmpdir(), 'herald-chaos-redis-')))
    await redis.up()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async up(): Promise<void> {
    spawnSync('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', this.dir, '--daemonize', 'yes'])
    await until(() => spawnSync('redis-cli', ['-p', String(this.port), 'ping']).stdout?.toString().trim() === 'PONG', 10_000, 'Redis did not start')
  }

  /** A clean shutdown: the append-only file is flushed, so Redis itself loses nothing. */
  down(): void {
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown'])
  }

  remove(): void {
    this.down()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

async function until(check: () => boolean | Promise<boolean>, ms: number, message: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(message)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function pgAdmin(database = PG.database): Knex {
  return knexFactory({ client: 'pg', connection: { ...PG, database }, pool: { min: 0, max: 2 } })
}

// ---------------------------------------------------------------------------------------------
// One scenario.

interface Scenario {
  readonly name: string
  readonly backend: 'sqlite' | 'pgsql' | 'bullmq'
  /** Harm done while the workers run; resolves when it is over. */
  readonly chaos?: (context: ChaosContext) => Promise<void>
  /** Garbage written into the queue before the workers start; resolves to how many pieces. */
  readonly garbage?: (context: ChaosContext) => Promise<number>
}

interface ChaosContext {
  readonly supervisor: Supervisor
  readonly queue: string
  readonly env: Record<string, string>
  readonly redis: OwnRedis | null
  readonly pgDatabase: string | null
  readonly copy: string
}

async function runScenario(scenario: Scenario, copy: string): Promise<Row> {
  const queue = `chaos-${scenario.name}-${process.pid}`
  const log = join(copy, `${queue}.log`)
  const redis = scenario.backend === 'bullmq' ? await OwnRedis.start() : null
  const pgDatabase = scenario.backend === 'pgsql' ? `herald_chaos_${process.pid}_${Date.now()}` : null
  if (pgDatabase !== null) {
    const admin = pgAdmin()
    await admin.raw(`create database "${pgDatabase}"`)
    await admin.destroy()
  }
  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    APP_KEY: 'base64:Y2hhb3MtY2hhb3MtY2hhb3MtY2hhb3MtY2hhb3MtY2g=',
    ...(scenario.backend === 'pgsql'
      ? { DB_CONNECTION: 'pgsql', DB_HOST: PG.host, DB_PORT: String(PG.port), DB_USERNAME: PG.user, DB_PASSWORD: PG.password, DB_DATABASE: pgDatabase! }
      : { DB_CONNECTION: 'sqlite', DB_DATABASE: `database/${queue}.sqlite` }),
    QUEUE_CONNECTION: scenario.backend === 'bullmq' ? 'bullmq' : 'database',
    ...(redis !== null && { REDIS_URL: redis.url, QUEUE_PREFIX: queue }),
  }
  process.env.APP_KEY = env.APP_KEY
  const started = Date.now()
  const migrate = spawnSync(process.execPath, ['bin/artisan', 'migrate'], { cwd: copy, env: { ...process.env, ...env } })
  if (migrate.status !== 0) throw new Error(`${scenario.name}: migrate failed: ${migrate.stderr.toString()}`)

  const app = createApplication({ basePath: copy, env, envFile: false })
  await app.boot()
  try {
    for (let n = 1; n <= JOBS; n++) await app.make('events').dispatch('chaos.job', { n, queue, log })
  } finally {
    await app.shutdown()
  }

  const supervisor = new Supervisor(copy, env, queue)
  const context: ChaosContext = { supervisor, queue, env, redis, pgDatabase, copy }
  const garbage = scenario.garbage === undefined ? 0 : await scenario.garbage(context)
  supervisor.start(2)
  try {
    await (scenario.chaos?.(context) ?? Promise.resolve())
    await until(() => doneCount(log) >= JOBS, 300_000, `${scenario.name}: ${doneCount(log)} of ${JOBS} done after 5 minutes:\n${supervisor.transcript.slice(-20).join('')}`)
    const quarantined = garbage === 0 ? null : await failedJobs(env, copy, garbage)
    const all = attempts(log).filter((a) => a.kind === 'done')
    const unique = new Set(all.map((a) => a.n)).size
    return {
      scenario: scenario.name,
      dispatched: JOBS,
      processed: unique,
      lost: JOBS - unique,
      duplicates: all.length - unique,
      redeliveryMs: longestRedelivery(log, supervisor.kills),
      quarantined: quarantined === null ? '' : `${quarantined}/${garbage}`,
      restartedByHand: supervisor.restartedByHand,
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    await supervisor.stop()
    redis?.remove()
    if (pgDatabase !== null) {
      const admin = pgAdmin()
      await admin.raw(`drop database if exists "${pgDatabase}" with (force)`)
      await admin.destroy()
    }
  }
}

/** Waits (up to 60 s) until the garbage has reached failed_jobs; resolves to how much did. */
async function failedJobs(env: Record<string, string>, copy: string, expected: number): Promise<number> {
  const app = createApplication({ basePath: copy, env, envFile: false })
  await app.boot()
  try {
    const store = await app.make('queue').failedJobs()
    let count = 0
    await until(
      async () => (count = (await store.all()).length) >= expected,
      60_000,
      'garbage did not reach failed jobs',
    ).catch(() => undefined)
    return count
  } finally {
    await app.shutdown()
  }
}

// ---------------------------------------------------------------------------------------------
// The harm.

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function killSixTimes({ supervisor }: ChaosContext): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await pause(1_000)
    supervisor.killOne()
  }
}

async function restartRedisTwice({ redis }: ChaosContext): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await pause(1_000)
    redis!.down()
    await pause(4_000)
    await redis!.up()
  }
}

async function terminateBackends({ pgDatabase }: ChaosContext): Promise<void> {
  const admin = pgAdmin()
  try {
    for (let i = 0; i < 6; i++) {
      await pause(1_000)
      await admin.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [pgDatabase])
    }
  } finally {
    await admin.destroy()
  }
}

const GARBAGE_PAYLOADS = ['not json', '{"job":42}', '[]', '{"id":"x","job":"ChaosRecorder","payload":{"$t":"Date","v":"not a date"}}', 'null']

async function databaseGarbage({ env, copy, queue }: ChaosContext): Promise<number> {
  const app = createApplication({ basePath: copy, env, envFile: false })
  await app.boot()
  try {
    const knex = await app.make('db').connection()
    const now = Date.now()
    await knex('jobs').insert(GARBAGE_PAYLOADS.map((payload) => ({ queue, payload, attempts: 0, reserved_at: null, available_at: now, created_at: now })))
    return GARBAGE_PAYLOADS.length
  } finally {
    await app.shutdown()
  }
}

/** Job hashes laid out as BullMQ lays them out, with data no decoder can read. */
async function bullmqGarbage({ redis, queue }: ChaosContext): Promise<number> {
  const client = new Redis(redis!.url)
  try {
    const prefix = `${queue}:${queue}`
    const hashes: Array<Record<string, string>> = [
      { name: 'x', data: 'not json', opts: '{}', timestamp: String(Date.now()) },
      { name: 'x', data: '{"job":42}', opts: 'not json either', timestamp: String(Date.now()) },
      { name: 'x', timestamp: String(Date.now()) },
    ]
    for (const [i, hash] of hashes.entries()) {
      const id = `garbage-${i}`
      await client.hset(`${prefix}:${id}`, hash)
      await client.lpush(`${prefix}:wait`, id)
    }
    return hashes.length
  } finally {
    client.disconnect()
  }
}

const scenarios: Scenario[] = [
  { name: 'kill-sqlite', backend: 'sqlite', chaos: killSixTimes },
  { name: 'kill-pgsql', backend: 'pgsql', chaos: killSixTimes },
  { name: 'kill-bullmq', backend: 'bullmq', chaos: killSixTimes },
  { name: 'redis-restart', backend: 'bullmq', chaos: restartRedisTwice },
  { name: 'pg-terminate', backend: 'pgsql', chaos: terminateBackends },
  { name: 'garbage-sqlite', backend: 'sqlite', garbage: databaseGarbage },
  { name: 'garbage-pgsql', backend: 'pgsql', garbage: databaseGarbage },
  { name: 'garbage-bullmq', backend: 'bullmq', garbage: bullmqGarbage },
]

function table(rows: readonly Row[]): string {
  const header = ['scenario', 'dispatched', 'processed', 'lost', 'duplicates', 'longest re-delivery', 'garbage quarantined', 'restarted by hand', 'seconds']
  const lines = rows.map((row) => [
    row.scenario,
    String(row.dispatched),
    String(row.processed),
    String(row.lost),
    String(row.duplicates),
    row.redeliveryMs === null ? '-' : `${(row.redeliveryMs / 1000).toFixed(1)} s`,
    row.quarantined || '-',
    String(row.restartedByHand),
    row.seconds.toFixed(1),
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)))
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`
  return [format(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(format)].join('\n')
}

async function main(): Promise<void> {
  const copy = copyProject()
  const rows: Row[] = []
  let failures = 0
  try {
    for (const scenario of scenarios) {
      if (ONLY !== null && !ONLY.includes(scenario.name)) continue
      process.stderr.write(`chaos: ${scenario.name} (${JOBS} jobs)…\n`)
      try {
        rows.push(await runScenario(scenario, copy))
      } catch (error) {
        failures++
        process.stderr.write(`chaos: ${scenario.name} could not finish: ${error instanceof Error ? error.message : String(error)}\n`)
      }
    }
  } finally {
    rmSync(copy, { recursive: true, force: true })
  }
  console.log(table(rows))
  const missed = rows.filter(
    (row) =>
      row.lost > 0 ||
      row.restartedByHand > 0 ||
      (row.redeliveryMs !== null && row.redeliveryMs > REDELIVERY_TARGET_MS) ||
      (row.quarantined !== '' && row.quarantined.split('/')[0] !== row.quarantined.split('/')[1]),
  )
  console.log(
    `\nTargets: lost 0, restarted by hand 0, re-delivery ≤ ${REDELIVERY_TARGET_MS / 1000} s, all garbage quarantined: ` +
      (missed.length === 0 && failures === 0 ? 'MET' : `NOT MET (${[...missed.map((row) => row.scenario), ...(failures > 0 ? [`${failures} scenario(s) unfinished`] : [])].join(', ')})`),
  )
  process.exitCode = missed.length === 0 && failures === 0 ? 0 : 1
}

await main()
