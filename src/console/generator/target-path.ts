import { existsSync, realpathSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { UserError } from '../../foundation/errors.ts'

/** A file a generator may write: its project-relative path (with `/`) and its absolute path. */
export interface TargetPath {
  readonly relative: string
  readonly absolute: string
}

function isInside(parent: string, child: string): boolean {
  const path = relative(parent, child)
  return path !== '' && !path.startsWith('..') && !isAbsolute(path)
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest. */
function realish(path: string): string {
  let existing = path
  const rest: string[] = []
  while (!existsSync(existing)) {
    rest.unshift(existing.slice(dirname(existing).length + 1))
    const parent = dirname(existing)
    if (parent === existing) break
    existing = parent
  }
  return join(realpathSync(existing), ...rest)
}

/**
 * Checks that `path` (relative to the project `root`) stays inside one of the `allowed`
 * top-level folders, following symlinks, so a stub's `to:` or a name can never make a
 * generator write elsewhere. `what` names the source of the path in the error
 * (`stubs/event.stub`).
 *
 * ```ts
 * resolveTarget('/srv/app', 'app/events/order-shipped.ts', ['app', 'tests'], 'stubs/event.stub')
 * ```
 */
export function resolveTarget(root: string, path: string, allowed: readonly string[], what: string): TargetPath {
  const folders = allowed.map((folder) => `${folder}/`).join(' and ')
  const refuse = (why: string): never => {
    throw new UserError(`${what} writes to "${path}" (${why}); generators only write inside ${folders}.`)
  }
  if (path.trim() === '') refuse('an empty path')
  if (path.includes('\\')) refuse('a path with a backslash (use /)')
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) refuse('an absolute path')
  const absolute = resolve(root, path)
  const inAllowed = allowed.some((folder) => isInside(resolve(root, folder), absolute))
  if (!inAllowed) refuse('outside those folders')
  const real = realish(absolute)
  if (!allowed.some((folder) => isInside(realish(resolve(root, folder)), real))) refuse('a symlink leads outside')
  return { relative: relative(root, absolute).split(sep).join('/'), absolute }
}
