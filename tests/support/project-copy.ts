import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url))

const skipped = new Set(['node_modules', '.git', '.ci/results', 'tests/e2e/artifacts', 'database/database.sqlite'])

/**
 * A throwaway copy of the whole project (framework, demo app, build output) with
 * node_modules linked, for tests that run the real CLI and must not touch the repository.
 */
export function copyProject(): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'herald-project-'))
  cpSync(projectRoot, root, {
    recursive: true,
    filter: (source) => {
      const path = relative(projectRoot, source).split(sep).join('/')
      return !skipped.has(path)
    },
  })
  symlinkSync(join(projectRoot, 'node_modules'), join(root, 'node_modules'), 'dir')
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) }
}
