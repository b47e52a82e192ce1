/**
 * The queue connections the chain and batch suites run over (as queue-conformance does): a
 * fresh application per case on its own database and queue prefix, with the workflow tables,
 * in-process workers, and worker processes (tests/support/workflow-worker-process.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Bus, bootApplication, type Application, type Knex } from '../../src/index.ts'
import { Migrator } from '../../src/database/migrator.ts'
import { Worker } from '../../src/queue/worker.ts'
import { createWorkflowTables, workflowJobs } from '../fixtures/workflows/jobs.ts'
import { freshDatabase, type FreshDatabase } from './fresh-database.ts'
import { projectRoot } from './project-copy.ts'

export interface WorkflowCase {
  readonly name: string
  readonly db: 'sqlite' | 'pgsql' | 'mysql'
  readonly queue: 'sync' | 'database' | 'bullmq'
}

export const workflowCases: WorkflowCase[] = [
  { name: 'sync', db: 'sqlite', queue: 'sync' },
  { name: 'database on SQLite', db: 'sqlite', queue: 'database' },
  { name: 'database on PostgreSQL', db: 'pgsql', queue: 'database' },
  { name: 'database on MariaDB', db: 'mysql', queue: 'database' },
  { name: 'bullmq on Redis', db: 'sqlite', queue: 'bullmq' },
]

export interface BootedCase {
  readonly app: Application
  readonly knex: Knex
  /** The env the application was made from, for worker processes. */
  readonly env: Record<string, string>
  readonly base: string
  /** Starts an in-process worker (none on sync). */
  startWorker(queues?: string[], concurrency?: number): Worker | null
  /** Stops the workers, shuts the app down, drops the database. */
  close(): Promise<void>
}

export async function bootWorkflowCase(driver: WorkflowCase): Promise<BootedCase> {
  const base = mkdtempSync(join(tmpdir(), 'herald-workflows-'))
  const database: FreshDatabase | null = driver.db === 'sqlite' ? null : await freshDatabase(driver.db)
  const env = {
    LOG_LEVEL: 'silent',
    EVENTS_DISCOVERY: 'false',
    DB_CONNECTION: driver.db,
    DB_DATABASE: database === null ? join(base, 'database.sqlite') : (database.connection as { database: string }).database,
    QUEUE_CONNECTION: driver.queue,
    QUEUE_PREFIX: `workflows-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
  }
  const app = await bootApplication({ basePath: base, envFile: false, loadConfig: false, env })
  Bus.serializable(...workflowJobs)
  const knex = await app.make('db').connection()
  await new Migrator(knex, join(projectRoot, 'database', 'migrations')).latest()
  await createWorkflowTables(knex)
  const workers: Worker[] = []
  return {
    app,
    knex,
    env,
    base,
    startWorker(queues = ['default'], concurrency = 1) {
      if (driver.queue === 'sync') return null
      const worker = new Worker(app.make('queue'), {
        connection: driver.queue,
        queues,
        concurrency,
        defaults: { tries: 1, backoff: 0, timeout: 0 },
        sleep: 0.02,
        stopWhenEmpty: false,
        maxJobs: 0,
        maxTime: 0,
        memory: 0,
      })
      workers.push(worker)
      void worker.run()
      return worker
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.stop()))
      await app.shutdown()
      await database?.drop()
    },
  }
}

export interface WorkerProcess {
  readonly child: ChildProcess
  /** Resolves once it printed "ready". */
  readonly ready: Promise<void>
  /** SIGTERM, then resolves once it exited 0. */
  stop(): Promise<void>
}

/** A worker in a process of its own on the case's database and queue. */
export function spawnWorkflowWorker(booted: BootedCase, concurrency = 2): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/workflow-worker-process.ts'], {
    cwd: projectRoot,
    env: { ...process.env, HERALD_TEST_ENV: JSON.stringify(booted.env), HERALD_TEST_BASE: booted.base, HERALD_TEST_CONCURRENCY: String(concurrency) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) => resolve(code))
  })
  const ready = new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      if (line === 'ready') resolve()
    })
    void exited.then((code) => reject(new Error(`The worker process exited before it was ready (code ${code}): ${stderr}`)))
  })
  ready.catch(() => undefined)
  return {
    child,
    ready,
    async stop() {
      child.kill('SIGTERM')
      const code = await exited
      if (code !== 0) throw new Error(`The worker process exited with code ${code}: ${stderr}`)
    },
  }
}
