import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { projectRoot } from '../support/project-copy.ts'

/** Runs bin/artisan with an import tracer and resolves to the packages it loaded. */
function packagesLoaded(args: string[]): Promise<{ code: number; packages: Set<string> }> {
  const trace = join(mkdtempSync(join(tmpdir(), 'herald-trace-')), 'imports.txt')
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', './tests/support/trace-imports.mjs', 'bin/artisan', ...args],
      { cwd: projectRoot, env: { ...process.env, HERALD_TRACE_IMPORTS: trace }, timeout: 30_000 },
      (error) => {
        const urls = readFileSync(trace, 'utf8').split('\n')
        const packages = new Set(
          urls.flatMap((url) => {
            const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
            return match ? [match[1]!] : []
          }),
        )
        resolve({ code: error ? Number(error.code ?? 2) : 0, packages })
      },
    )
  })
}

const engines = ['bullmq', 'socket.io', 'knex', 'express', 'ioredis', 'better-sqlite3', 'pg']

describe('what artisan loads', () => {
  it('list loads commander and no engine, no TypeScript loader, no template engine', async () => {
    const { code, packages } = await packagesLoaded(['list'])
    expect(code).toBe(0)
    expect(packages.has('commander')).toBe(true)
    for (const name of [...engines, 'tsx', 'esbuild', 'handlebars']) expect(packages.has(name), name).toBe(false)
  })

  it('a command that boots the application registers the TypeScript loader, and still no engine', async () => {
    const { code, packages } = await packagesLoaded(['event:list'])
    expect(code).toBe(0)
    expect(packages.has('tsx')).toBe(true)
    for (const name of engines) expect(packages.has(name), name).toBe(false)
  })
})
