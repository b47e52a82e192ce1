import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { UserError } from '../../foundation/errors.ts'
import { clearEventCache } from '../../events/event-cache.ts'
import type { Output } from '../output.ts'
import type { RenderedFile } from './render.ts'

/**
 * Writes a generator's files, all or none: every target is checked first, so a command that
 * makes an event, a listener and their tests never leaves half of them behind. An existing
 * file is overwritten only with `force`. Prints `CREATE path` (or `OVERWRITE path`) per file.
 * Writing under app/ drops the event cache, so `event:list` and boot see the new class at once.
 */
export function writeFiles(root: string, files: readonly RenderedFile[], output: Output, force: boolean): void {
  const seen = new Set<string>()
  for (const file of files) {
    if (seen.has(file.to)) throw new UserError(`Two stubs write to ${file.to}: give them different "to:" paths.`)
    seen.add(file.to)
  }
  const existing = files.filter((file) => existsSync(file.absolute))
  if (existing.length > 0 && !force) {
    const list = existing.map((file) => file.to).join(', ')
    const verb = existing.length === 1 ? 'exists' : 'exist'
    throw new UserError(`${list} already ${verb}: nothing was written; use --force to overwrite.`)
  }
  for (const file of files) {
    const overwrite = existsSync(file.absolute)
    mkdirSync(dirname(file.absolute), { recursive: true })
    writeFileSync(file.absolute, file.content)
    output.line(`${output.paint(overwrite ? 'OVERWRITE' : 'CREATE', overwrite ? 'yellow' : 'green')} ${file.to}`)
  }
  if (files.some((file) => file.to.startsWith('app/')) && clearEventCache(root)) {
    output.line('Event cache cleared: boot scans app/ again (run "artisan event:cache" to cache it anew).')
  }
}
