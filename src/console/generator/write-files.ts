import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, renameSync, rmdirSync, unlinkSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname } from 'node:path'
import { UserError } from '../../foundation/errors.ts'
import { clearEventCache } from '../../events/event-cache.ts'
import type { Output } from '../output.ts'
import { inspectTarget, type TargetState } from './path-guard.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/** A file to write: its project-relative path (with `/`) and its text. */
export interface FileToWrite {
  readonly to: string
  readonly content: string
}

/** What {@link writeAllOrNone} did, so a caller can print its own lines (`stub:publish`). */
export interface WrittenFile {
  readonly to: string
  readonly overwritten: boolean
}

// O_CREAT | O_EXCL: fails if the name exists in any form, a symlink included (O_EXCL never
// follows a final link); O_NOFOLLOW on top, so even a platform that did would refuse.
const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0)

/** Creates `path` exclusively and writes `content`; `mode` keeps an overwritten file's permissions. */
function writeExclusive(path: string, content: string, mode?: number): void {
  const fd = openSync(path, EXCLUSIVE, 0o666)
  try {
    // fchmod, not chmod: the descriptor is the file this call created, whatever the path is now.
    if (mode !== undefined && (fstatSync(fd).mode & 0o7777) !== mode) fchmodSync(fd, mode)
    const bytes = Buffer.from(content)
    let offset = 0
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset)
  } finally {
    closeSync(fd)
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (errorMessage(error))
}

/**
 * Writes a generator's files, all or none, never through a symbolic link and never outside
 * app/, tests/ or stubs/.
 *
 * 1. The whole plan is checked before anything is created: duplicate targets, each path's
 *    names and length, links anywhere below the project root, files that exist (refused
 *    unless `force`).
 * 2. Folders are created one at a time (`mkdir` refuses a name that exists as a link), and
 *    each new file is created exclusively (O_CREAT | O_EXCL | O_NOFOLLOW), so a link slipped
 *    in after the check makes the write fail instead of following it.
 * 3. With `force`, an existing file is replaced by renaming a new file (created exclusively
 *    in the same folder) over it: rename replaces the directory entry and follows nothing.
 *
 * If any step fails, what this call created (files, temporary files, folders) is removed
 * and the error is a one-line UserError.
 */
export function writeAllOrNone(root: string, files: readonly FileToWrite[], force: boolean): WrittenFile[] {
  const seen = new Set<string>()
  for (const file of files) {
    if (seen.has(file.to)) throw new UserError(`Two stubs write to ${file.to}: give them different "to:" paths.`)
    seen.add(file.to)
  }
  const plan = files.map((file) => ({ file, state: inspectTarget(root, file.to) }))
  const existing = plan.filter(({ state }) => state.exists)
  if (existing.length > 0 && !force) {
    const list = existing.map(({ file }) => file.to).join(', ')
    const verb = existing.length === 1 ? 'exists' : 'exist'
    throw new UserError(`${list} already ${verb}: nothing was written; use --force to overwrite.`)
  }

  const created: string[] = []
  const folders: string[] = []
  const replacements: Array<{ temporary: string; file: FileToWrite; state: TargetState }> = []
  try {
    for (const { file, state } of plan) {
      // Looked at again right before writing: the folders an earlier file created, or a link
      // someone made since the plan was checked.
      const now = inspectTarget(root, file.to)
      for (const folder of now.missingFolders) {
        mkdirSync(folder)
        folders.push(folder)
      }
      if (!state.exists) {
        writeExclusive(now.absolute, file.content)
        created.push(now.absolute)
        continue
      }
      const temporary = `${dirname(now.absolute)}/.herald-${randomBytes(6).toString('hex')}.tmp`
      writeExclusive(temporary, file.content, lstatSync(now.absolute).mode & 0o7777)
      created.push(temporary)
      replacements.push({ temporary, file, state: now })
    }
    for (const { temporary, file, state } of replacements) {
      if (!lstatSync(state.absolute).isFile()) throw new UserError(`${file.to} changed into a link or folder while writing: nothing was overwritten.`)
      renameSync(temporary, state.absolute)
      created.splice(created.indexOf(temporary), 1)
    }
  } catch (error) {
    undo(created, folders)
    if (error instanceof UserError) throw error
    const code = errorCode(error)
    const reason = code === 'EEXIST' || code === 'ELOOP' ? 'a file or link appeared there while writing' : code
    const failed = plan.find(({ state }) => (error as { path?: string }).path?.startsWith(state.absolute))?.file.to
    throw new UserError(`Cannot write ${failed ?? 'the generated files'} (${reason}): nothing was written.`, { cause: error })
  }
  return plan.map(({ file, state }) => ({ to: file.to, overwritten: state.exists }))
}

/** Removes what a failed {@link writeAllOrNone} created: its files, then its folders, innermost first. */
function undo(files: readonly string[], folders: readonly string[]): void {
  for (const file of [...files].reverse()) {
    try {
      unlinkSync(file)
    } catch {
      // Already gone: nothing to undo.
    }
  }
  for (const folder of [...folders].reverse()) {
    try {
      rmdirSync(folder)
    } catch {
      // Not empty (someone else wrote there) or gone: leave it.
    }
  }
}

/**
 * Writes a generator's files ({@link writeAllOrNone}) and prints `CREATE path` (or `OVERWRITE
 * path`) for each. Writing under app/ drops the event cache, so `event:list` and boot see
 * the new class at once.
 */
export function writeFiles(root: string, files: readonly FileToWrite[], output: Output, force: boolean): void {
  for (const { to, overwritten } of writeAllOrNone(root, files, force)) {
    output.line(`${output.paint(overwritten ? 'OVERWRITE' : 'CREATE', overwritten ? 'yellow' : 'green')} ${to}`)
  }
  if (files.some((file) => file.to.startsWith('app/')) && clearEventCache(root)) {
    output.line('Event cache cleared: boot scans app/ again (run "artisan event:cache" to cache it anew).')
  }
}
