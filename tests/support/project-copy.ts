import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url))

const skipped = new Set(['node_modules', '.git', '.ci/results', 'tests/e2e/artifacts', 'database/database.sqlite'])

/**
 * A throwaway copy of the whole project (framework, demo app, build output) with its
 * node_modules packages linked, for tests that run the real CLI and must not touch the repository.
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
  // A real node_modules folder of links, so that what a command writes there (the event cache
  // in node_modules/.cache) stays in this copy.
  mkdirSync(join(root, 'node_modules'))
  for (const entry of readdirSync(join(projectRoot, 'node_modules'))) {
    if (entry === '.cache') continue
    symlinkSync(join(projectRoot, 'node_modules', entry), join(root, 'node_modules', entry))
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) }
}
