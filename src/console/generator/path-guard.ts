import { lstatSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import { UserError } from '../../foundation/errors.ts'
import { quoteInput } from '../quote-input.ts'

/** The folders generators and `stub:publish` may write into, whatever a stub or name says. */
export const writableFolders = ['app', 'tests', 'stubs'] as const

/** Linux and macOS refuse a file or folder name longer than this (NAME_MAX). */
export const MAX_NAME_BYTES = 255
/** Linux refuses a longer path (PATH_MAX is 4,096 bytes with its terminating NUL). */
export const MAX_PATH_BYTES = 4095

/** What is on disk at a generator's target, checked from the project root down. */
export interface TargetState {
  /** The absolute path. */
  readonly absolute: string
  /** The target exists (as a regular file: anything else is refused). */
  readonly exists: boolean
  /** Its folders that do not exist yet, outermost first (absolute paths). */
  readonly missingFolders: readonly string[]
}

function lstatOrNull(path: string, shown: string): Stats | null {
  try {
    return lstatSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    throw new UserError(`Cannot check ${shown} (${code ?? String(error)}): nothing was written.`)
  }
}

/**
 * Checks a project-relative target (`app/events/order-shipped.ts`) before anything is written:
 * it stays in app/, tests/ or stubs/; each file or folder name fits in 255 bytes and the whole
 * path in 4,095; and no component below the project root is a symbolic link, dangling or not,
 * since writing through one would write wherever it points. Each component is looked at with
 * lstat, which never follows a link. Throws a one-line UserError naming the component.
 */
export function inspectTarget(root: string, to: string): TargetState {
  const parts = to.split('/')
  const top = parts[0] ?? ''
  if (
    parts.length < 2 ||
    !(writableFolders as readonly string[]).includes(top) ||
    parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\\'))
  ) {
    throw new UserError(`Refusing to write ${quoteInput(to)}: generators only write inside app/, tests/ and stubs/.`)
  }
  const long = parts.find((part) => Buffer.byteLength(part) > MAX_NAME_BYTES)
  if (long !== undefined) {
    throw new UserError(
      `The name ${quoteInput(long)} is ${Buffer.byteLength(long)} bytes; a file or folder name is at most ${MAX_NAME_BYTES}: choose a shorter name. Nothing was written.`,
    )
  }
  const absolute = join(root, ...parts)
  if (Buffer.byteLength(absolute) > MAX_PATH_BYTES) {
    throw new UserError(
      `The path ${quoteInput(to)} would be ${Buffer.byteLength(absolute)} bytes; a path is at most ${MAX_PATH_BYTES}: choose a shorter name. Nothing was written.`,
    )
  }

  let current = root
  const missingFolders: string[] = []
  let exists = false
  for (const [index, part] of parts.entries()) {
    current = join(current, part)
    const last = index === parts.length - 1
    const shown = parts.slice(0, index + 1).join('/')
    // Below a missing folder nothing exists: no need to look.
    const stats = missingFolders.length > 0 ? null : lstatOrNull(current, shown)
    if (stats === null) {
      if (!last) missingFolders.push(current)
      continue
    }
    if (stats.isSymbolicLink()) {
      throw new UserError(
        `${shown} is a symbolic link: generators never write through a link (it could point outside the project). Remove the link, or replace it with a real ${last ? 'file' : 'folder'}. Nothing was written.`,
      )
    }
    if (!last && !stats.isDirectory()) throw new UserError(`${shown} is not a folder, so ${quoteInput(to)} cannot be written. Nothing was written.`)
    if (last && !stats.isFile()) throw new UserError(`${shown} exists and is not a regular file: remove it or choose another name. Nothing was written.`)
    exists = last
  }
  return { absolute, exists, missingFolders }
}
