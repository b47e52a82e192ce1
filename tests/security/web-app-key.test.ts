/**
 * APP_KEY from the real CLI (bin/artisan, built dist/): `key:generate` writes one into .env
 * (made from .env.example when missing), refuses to replace one without --force, prints one
 * with --show, and loads no engine; `serve` with APP_ENV=production and no key stops with one
 * line and exit 1 before migrating anything, and serves once a key is set.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { generateAppKey, parseAppKey } from 'herald'
import { signingKey } from '../../src/foundation/app-key.ts'
import { copyProject, projectRoot } from '../support/project-copy.ts'

const ARTISAN = join(projectRoot, 'bin/artisan')
const folders: string[] = []
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** bin/artisan in `cwd`, with APP_KEY unset in its environment unless `env` sets it. */
function artisan(cwd: string, args: string[], env: Record<string, string> = {}, trace?: string): Promise<Run> {
  const { APP_KEY: _ignored, ...inherited } = process.env
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(trace ? ['--import', join(projectRoot, 'tests/support/trace-imports.mjs')] : []), ARTISAN, ...args],
      { cwd, env: { ...inherited, NO_COLOR: '1', ...(trace ? { HERALD_TRACE_IMPORTS: trace } : {}), ...env }, timeout: 45_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 2) : 0, stdout, stderr }),
    )
  })
}

/** An empty project folder with the repository's .env.example. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-key-'))
  folders.push(dir)
  copyFileSync(join(projectRoot, '.env.example'), join(dir, '.env.example'))
  return dir
}

function keyIn(dir: string): string | undefined {
  return /^APP_KEY=(.*)$/m.exec(readFileSync(join(dir, '.env'), 'utf8'))?.[1]
}

const KEY = /^base64:[A-Za-z0-9+/]{43}=$/

describe('artisan key:generate', () => {
  it('creates .env from .env.example with a new base64 key, keeping every other line', async () => {
    const dir = project()
    const run = await artisan(dir, ['key:generate'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Application key set in .env.')
    const key = keyIn(dir)!
    expect(key).toMatch(KEY)
    expect(parseAppKey(key)).toHaveLength(32)
    const example = readFileSync(join(dir, '.env.example'), 'utf8')
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(example.replace(/^APP_KEY=.*$/m, `APP_KEY=${key}`))
  })

  it('refuses to replace a key without --force (one line, exit 1, .env untouched), and replaces it with --force', async () => {
    const dir = project()
    writeFileSync(join(dir, '.env'), 'APP_NAME=Shop\nAPP_KEY=base64:b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleQ==\nPORT=4000\n')
    const before = readFileSync(join(dir, '.env'), 'utf8')
    const refused = await artisan(dir, ['key:generate'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^APP_KEY is already set in \.env: use --force to replace it[^\n]*\n$/)
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(before)

    const forced = await artisan(dir, ['key:generate', '--force'])
    expect(forced.code).toBe(0)
    const key = keyIn(dir)!
    expect(key).toMatch(KEY)
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`APP_NAME=Shop\nAPP_KEY=${key}\nPORT=4000\n`)
  })

  it('fills an empty APP_KEY= and appends one to a .env without it', async () => {
    const empty = project()
    writeFileSync(join(empty, '.env'), 'APP_KEY=\n')
    expect((await artisan(empty, ['key:generate'])).code).toBe(0)
    expect(keyIn(empty)).toMatch(KEY)

    const without = project()
    writeFileSync(join(without, '.env'), 'APP_NAME=Shop')
    expect((await artisan(without, ['key:generate'])).code).toBe(0)
    expect(readFileSync(join(without, '.env'), 'utf8')).toMatch(/^APP_NAME=Shop\nAPP_KEY=base64:[A-Za-z0-9+/]{43}=\n$/)
  })

  it('--show prints a key and writes nothing', async () => {
    const dir = project()
    const run = await artisan(dir, ['key:generate', '--show'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^base64:[A-Za-z0-9+/]{43}=\n$/)
    expect(existsSync(join(dir, '.env'))).toBe(false)
    const again = await artisan(dir, ['key:generate', '--show'])
    expect(again.stdout).not.toBe(run.stdout)
  })

  it('boots nothing and loads no engine', async () => {
    const dir = project()
    const trace = join(dir, 'imports.txt')
    const run = await artisan(dir, ['key:generate', '--show'], {}, trace)
    expect(run.code).toBe(0)
    const packages = new Set(
      readFileSync(trace, 'utf8')
        .split('\n')
        .flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.slice(1, 2) ?? []),
    )
    expect(packages.has('commander')).toBe(true)
    for (const name of ['bullmq', 'socket.io', 'knex', 'express', 'ioredis', 'better-sqlite3', 'pg', 'helmet', 'tsx', 'handlebars']) expect(packages.has(name), name).toBe(false)
  })
})

describe('the signing key', () => {
  it('decodes base64: keys, takes other text as it is, and refuses a base64: key that is not base64 in one line', () => {
    const key = generateAppKey()
    expect(parseAppKey(key)).toEqual(Buffer.from(key.slice('base64:'.length), 'base64'))
    expect(parseAppKey('a hand-written key')).toEqual(Buffer.from('a hand-written key'))
    expect(() => parseAppKey('base64:not base64!')).toThrow(/^APP_KEY starts with "base64:" but the rest is not base64: run `artisan key:generate --force`/)
  })

  it('outside production, makes up one key per process without APP_KEY, warning once; in production refuses', () => {
    const warnings: string[] = []
    const logger = { warn: (message: string) => warnings.push(message) }
    const first = signingKey({ env: 'local', key: null }, logger)
    const second = signingKey({ env: 'testing', key: null }, logger)
    expect(first).toHaveLength(32)
    expect(second).toBe(first)
    expect(warnings).toEqual([expect.stringMatching(/^APP_KEY is not set: .*run `artisan key:generate`/)])
    const key = generateAppKey()
    expect(signingKey({ env: 'production', key }, logger)).toEqual(parseAppKey(key))
    expect(() => signingKey({ env: 'production', key: null }, logger)).toThrow(/^APP_KEY is not set, and APP_ENV is production/)
  })
})

describe('artisan serve and APP_KEY', () => {
  const copy = copyProject()
  folders.push(copy.root)

  /** `artisan serve --no-worker` in the copy; APP_KEY only from its .env (an empty one in the environment would win). */
  function start(env: Record<string, string>) {
    const { APP_KEY: _ignored, ...inherited } = process.env
    const child = spawn(process.execPath, ['bin/artisan', 'serve', '--port', '0', '--no-worker'], {
      cwd: copy.root,
      env: { ...inherited, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(child)
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    return { child, exited, output: () => output }
  }

  it('refuses to start in production without APP_KEY: one line on stderr, exit 1, nothing migrated', async () => {
    const run = await artisan(copy.root, ['serve', '--port', '0'], { APP_ENV: 'production', APP_KEY: '', LOG_LEVEL: 'info' })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^APP_KEY is not set, and APP_ENV is production: run `artisan key:generate`[^\n]*\n$/)
    expect(run.stdout).not.toContain('Migrated')
    expect(run.stdout).not.toContain('serving')
  })

  it('starts without APP_KEY outside production (a fresh clone), warning once, and its tokens pass CSRF', async () => {
    const server = start({ LOG_LEVEL: 'warn' })
    await expect.poll(server.output, { timeout: 45_000 }).toMatch(/Herald is serving http:\/\/127\.0\.0\.1:\d+/)
    expect(server.output().match(/APP_KEY is not set/g)).toHaveLength(1)
    const base = /(http:\/\/127\.0\.0\.1:\d+)/.exec(server.output())![1]!
    const page = await fetch(`${base}/`)
    const token = /XSRF-TOKEN=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')![1]!
    const order = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', cookie: `XSRF-TOKEN=${token}`, 'x-csrf-token': token },
      body: JSON.stringify({ email: 'ada@example.test', sku: 'BOOK-1', quantity: 1 }),
    })
    expect(order.status).toBe(201)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it('starts in production once key:generate has written a key, and stops on SIGTERM', async () => {
    expect((await artisan(copy.root, ['key:generate'])).code).toBe(0)
    const server = start({ APP_ENV: 'production', LOG_LEVEL: 'warn' })
    await expect.poll(server.output, { timeout: 45_000 }).toMatch(/Herald is serving http:\/\/127\.0\.0\.1:\d+/)
    // The key from .env signs its tokens: no warning about a made-up one.
    expect(server.output()).not.toContain('APP_KEY is not set')
    const port = /127\.0\.0\.1:(\d+)/.exec(server.output())![1]
    const page = await fetch(`http://127.0.0.1:${port}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'self'")
    expect(page.headers.get('set-cookie')).toMatch(/^XSRF-TOKEN=[0-9a-f]{32}\.[0-9a-f]{64};/)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })
})
