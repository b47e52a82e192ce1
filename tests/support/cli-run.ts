/**
 * Running the real CLI (and the generated tests) in a copy of the project, for the e2e tests of
 * the generators and commands: exit code and output of a process, the files a refused command
 * must leave as they were, and vitest's JSON report of the generated tests.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

export interface Run {
  code: number
  stdout: string
  stderr: string
}

// The generated tests run in a vitest of their own: it must not think it is this one's worker.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')))

/** Runs `file` with `args` in `cwd` (no colour, 2 minutes at most); never rejects. */
export function run(cwd: string, file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: { ...childEnv, ...env, NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 2) : 0, stdout, stderr })
    })
  })
}

/** The real CLI, as a user runs it, in a copy of the project. */
export const artisan = (cwd: string, ...args: string[]): Promise<Run> => run(cwd, process.execPath, ['bin/artisan', ...args])

/** What a generator prints for the files it wrote. */
export const created = (...paths: string[]): string => paths.map((path) => `CREATE ${path}\n`).join('')

/** Every file under app/, tests/ and stubs/ with its content: what a refused command must leave as it was. */
export function tree(root: string): Map<string, string> {
  const files = new Map<string, string>()
  for (const folder of ['app', 'tests', 'stubs']) {
    if (!existsSync(join(root, folder))) continue
    for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue
      const path = join(entry.parentPath, entry.name)
      files.set(relative(root, path), readFileSync(path, 'utf8'))
    }
  }
  return files
}

export interface VitestReport {
  numPassedTests: number
  numFailedTests: number
  testResults: Array<{ name: string; status: string; assertionResults: Array<{ title: string; status: string }> }>
}

/** Runs vitest on `files` in the copy and returns its JSON report. */
export async function vitest(root: string, files: string[]): Promise<VitestReport & { code: number }> {
  const report = join(root, 'generated-tests.json')
  const result = await run(root, join(root, 'node_modules/.bin/vitest'), ['run', '--reporter=json', `--outputFile=${report}`, ...files])
  return { ...(JSON.parse(readFileSync(report, 'utf8')) as VitestReport), code: result.code }
}
