import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { UserError } from '../../foundation/errors.ts'
import { classEventContext, nameContext, type EventContext } from './contexts.ts'
import type { GeneratorName } from './naming.ts'
import { renderStub, type RenderedFile } from './render.ts'

/** Flags of a generated event: the `make:event` options that change its class. */
export interface EventFlags {
  readonly broadcast: boolean
  readonly queued: boolean
}

/** The context of the event stubs (`event`, `event.broadcast`) and of the event's test. */
export function eventStubContext(name: GeneratorName, flags: EventFlags) {
  return { ...nameContext(name), queued: flags.queued, broadcast: flags.broadcast, channel: name.dotted }
}

/** Renders the event's own file (`make:event`, or an event `make:listener` needs). */
export function renderEvent(root: string, name: GeneratorName, flags: EventFlags): Promise<RenderedFile> {
  return renderStub(root, flags.broadcast ? 'event.broadcast' : 'event', eventStubContext(name, flags))
}

function exportOf(source: string, className: string): { defaultExport: boolean } | null {
  const match = new RegExp(`export\\s+(default\\s+)?(?:abstract\\s+)?class\\s+${className}\\b`).exec(source)
  return match ? { defaultExport: match[1] !== undefined } : null
}

/** True for a regular file; false for a link (never read through: it may lead anywhere), a folder or nothing. */
function isPlainFile(path: string): boolean {
  try {
    return lstatSync(path).isFile()
  } catch {
    return false
  }
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.(ts|mts|js|mjs)$/.test(file) && !/(\.d\.ts|\.test\.\w+|\.spec\.\w+)$/.test(file))
    .filter((file) => isPlainFile(join(dir, file)))
    .sort()
}

/** The folder the event stub writes into: `app/events` for `app/events/admin/user-banned.ts`. */
function eventsFolder(name: GeneratorName, conventional: RenderedFile): string {
  const suffix = `/${name.path}.ts`
  return conventional.to.endsWith(suffix) ? conventional.to.slice(0, -suffix.length) : posix.dirname(conventional.to)
}

/** Where an existing event class lives, or null. */
export interface FoundEvent {
  readonly file: string
  readonly defaultExport: boolean
}

/**
 * Finds the module exporting event class `name`: first where the event stub would put it
 * (`app/events/order-shipped.ts`), then any file in that events folder, since one file may
 * hold several events. Reads the source text only: generators never import the application.
 */
export function findEvent(root: string, name: GeneratorName, conventional: RenderedFile): FoundEvent | null {
  // A link there is not read: the writer refuses it, with the reason, if the event must be made.
  if (isPlainFile(conventional.absolute)) {
    const found = exportOf(readFileSync(conventional.absolute, 'utf8'), name.className)
    if (!found) {
      throw new UserError(
        `${conventional.to} exists but does not export class ${name.className}: export it there, or pass the event's real name.`,
      )
    }
    return { file: conventional.to, ...found }
  }
  const folder = eventsFolder(name, conventional)
  for (const file of sourceFiles(join(root, folder))) {
    const found = exportOf(readFileSync(join(root, folder, file), 'utf8'), name.className)
    if (found) return { file: posix.join(folder, file.split('\\').join('/')), ...found }
  }
  return null
}

/**
 * The class event a listener or subscriber names: found on disk, or (when `create` allows)
 * rendered to be written alongside it. Without `create`, a missing event is a UserError
 * naming the fix.
 */
export async function resolveClassEvent(
  root: string,
  name: GeneratorName,
  create: boolean,
): Promise<{ event: EventContext; file: RenderedFile | null }> {
  const conventional = await renderEvent(root, name, { broadcast: false, queued: false })
  const found = findEvent(root, name, conventional)
  if (found) return { event: classEventContext(name, found.file, { ...found, created: false }), file: null }
  if (!create) {
    throw new UserError(`Event class ${name.className} was not found in ${eventsFolder(name, conventional)}/: run make:event ${name.input} first.`)
  }
  return { event: classEventContext(name, conventional.to, { defaultExport: false, created: true }), file: conventional }
}
