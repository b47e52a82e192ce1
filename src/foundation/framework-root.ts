import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

interface PackageJson {
  name?: string
  version?: string
}

function findRoot(): { root: string; version: string } {
  // Walk up from this module: it sits in src/foundation/ when run from source and in a
  // chunk under dist/ when compiled, so no fixed number of '..' is right for both.
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as PackageJson
      if (pkg.name === 'herald') return { root: dir, version: pkg.version ?? '0.0.0' }
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error('Cannot find the herald package.json above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
}

let found: { root: string; version: string } | null = null

/** The framework package's folder (where its package.json, src/ and dist/ are). */
export function frameworkRoot(): string {
  found ??= findRoot()
  return found.root
}

/** The framework's version, from its package.json. */
export function frameworkVersion(): string {
  found ??= findRoot()
  return found.version
}
