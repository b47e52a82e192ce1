import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { UserError } from '../foundation/errors.ts'

/**
 * Runs `artisan <command> <args…>` of the project at `basePath` as a child process, its output
 * going to this process's: the scheduler lives below the console (DESIGN.md's floors), so a
 * scheduled command runs the way a system cron would run it, in a fresh process of its own.
 * Resolves when it exits 0; rejects naming its exit code otherwise.
 */
export function runArtisan(basePath: string, command: string, args: readonly string[]): Promise<void> {
  const artisan = join(basePath, 'bin', 'artisan')
  if (!existsSync(artisan)) return Promise.reject(new UserError(`Cannot run "artisan ${command}": ${artisan} does not exist.`))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [artisan, command, ...args], { cwd: basePath, env: process.env, stdio: ['ignore', 'inherit', 'inherit'] })
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`"artisan ${[command, ...args].join(' ')}" exited with ${signal === null ? `code ${String(code)}` : `signal ${signal}`}.`))
    })
  })
}
