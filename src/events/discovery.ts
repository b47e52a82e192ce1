import { existsSync, readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { UserError } from '../foundation/errors.ts'
import type { Dispatcher } from './dispatcher.ts'
import { eventClassName } from './dispatchable.ts'
import type { EventClass, EventKey } from './types.ts'
import { errorMessage } from '../foundation/error-message.ts'
import { declaresSubscriberEvents } from './subscriber-routes.ts'
import { isDeclaredEvents, type StringEventDeclaration } from './event-declarations.ts'

/** Where discovery looks, as absolute paths. */
export interface DiscoveryPaths {
  readonly events: string
  readonly listeners: string
  readonly subscribers: string
}

/**
 * What discovery found, by file and export, with event names as strings: what
 * `artisan event:cache` writes, so that boot can register without scanning.
 */
export interface DiscoveryManifest {
  readonly version: 1
  readonly events: ReadonlyArray<{ readonly name: string; readonly file: string; readonly export: string }>
  readonly listeners: ReadonlyArray<{ readonly file: string; readonly export: string; readonly events: readonly string[] }>
  readonly subscribers: ReadonlyArray<{ readonly file: string; readonly export: string }>
  /** `defineEvents(...)` exports of the events folder (string events for the catalog). Absent in older caches. */
  readonly declarations?: ReadonlyArray<{ readonly file: string; readonly export: string; readonly names: readonly string[] }>
}

/** What discovery registered. */
export interface DiscoveryReport {
  /** Event classes exported from the events folder, by event name. */
  readonly events: Map<string, EventClass>
  readonly listeners: ReadonlyArray<{ readonly file: string; readonly listener: Function; readonly events: readonly EventKey[] }>
  readonly subscribers: ReadonlyArray<{ readonly file: string; readonly subscriber: Function }>
  /** String events declared with `defineEvents(...)` in the events folder, by name. */
  readonly declared: ReadonlyMap<string, StringEventDeclaration>
  /** True when the registrations came from the event cache instead of a scan. */
  readonly cached: boolean
  /** What was registered, as `artisan event:cache` writes it. */
  readonly manifest: DiscoveryManifest
}

export const emptyDiscovery: DiscoveryReport = {
  events: new Map(),
  listeners: [],
  subscribers: [],
  declared: new Map(),
  cached: false,
  manifest: { version: 1, events: [], listeners: [], subscribers: [], declarations: [] },
}

const SOURCE = /\.(ts|mts|js|mjs)$/
const SKIP = /(\.d\.ts|\.test\.\w+|\.spec\.\w+)$/

/** Source files under `dir`, sorted, so registration order does not depend on the disk. */
export function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => SOURCE.test(file) && !SKIP.test(file))
    .map((file) => join(dir, file))
    .sort()
}

function importFile(root: string, file: string): Promise<Record<string, unknown>> {
  return import(pathToFileURL(join(root, file)).href) as Promise<Record<string, unknown>>
}

function relativeFile(root: string, file: string): string {
  return relative(root, file).split(sep).join('/')
}

function declaredEvents(value: Function): readonly EventKey[] | undefined {
  const events = (value as { events?: unknown }).events
  return Array.isArray(events) ? (events as EventKey[]) : undefined
}

function isSubscriberClass(value: Function): boolean {
  const proto = (value as { prototype?: Record<string, unknown> }).prototype
  return typeof proto?.subscribe === 'function' || declaresSubscriberEvents((value as { events?: unknown }).events)
}

function keyName(key: EventKey): string {
  return typeof key === 'string' ? key : eventClassName(key)
}

/**
 * Finds the events, listeners and subscribers on disk. Each listener class declares its events
 * itself (`extends Listener.for(OrderPlaced)` or `static events`), so nothing is registered
 * twice by hand. A default export that declares nothing is an error naming the file; named
 * exports that declare nothing are left alone (helpers).
 */
export async function scanEvents(paths: DiscoveryPaths, root: string): Promise<DiscoveryManifest> {
  const manifest = {
    version: 1 as const,
    events: [] as Array<{ name: string; file: string; export: string }>,
    listeners: [] as Array<{ file: string; export: string; events: string[] }>,
    subscribers: [] as Array<{ file: string; export: string }>,
    declarations: [] as Array<{ file: string; export: string; names: string[] }>,
  }
  for (const path of sourceFiles(paths.events)) {
    const file = relativeFile(root, path)
    for (const [exported, value] of Object.entries(await importFile(root, file))) {
      if (typeof value === 'function' && value.prototype) {
        manifest.events.push({ name: eventClassName(value), file, export: exported })
      } else if (isDeclaredEvents(value)) {
        manifest.declarations.push({ file, export: exported, names: Object.keys(value) })
      }
    }
  }
  for (const path of sourceFiles(paths.listeners)) {
    const file = relativeFile(root, path)
    for (const [exported, value] of Object.entries(await importFile(root, file))) {
      if (typeof value !== 'function') continue
      const events = declaredEvents(value)
      if (events !== undefined) {
        manifest.listeners.push({ file, export: exported, events: events.map(keyName) })
      } else if (exported === 'default') {
        throw new UserError(
          `Listener "${value.name}" in ${file} declares no events: extend Listener.for(SomeEvent) or set static events.`,
        )
      }
    }
  }
  for (const path of sourceFiles(paths.subscribers)) {
    const file = relativeFile(root, path)
    for (const [exported, value] of Object.entries(await importFile(root, file))) {
      if (typeof value !== 'function') continue
      if (isSubscriberClass(value)) {
        manifest.subscribers.push({ file, export: exported })
      } else if (exported === 'default') {
        throw new UserError(`Subscriber "${value.name}" in ${file} has neither subscribe(events) nor static events.`)
      }
    }
  }
  return manifest
}

/**
 * Registers what a manifest lists. With a cached manifest, a file or export that is gone
 * means the cache is stale: say so rather than boot with listeners missing.
 */
export async function registerDiscovered(
  dispatcher: Dispatcher,
  manifest: DiscoveryManifest,
  root: string,
  cached: boolean,
): Promise<DiscoveryReport> {
  const exportOf = async (file: string, exported: string): Promise<unknown> => {
    if (cached && !existsSync(join(root, file))) throw staleCache(`${file} no longer exists`)
    return (await importFile(root, file))[exported]
  }
  const load = async (file: string, exported: string): Promise<Function> => {
    const value = await exportOf(file, exported)
    if (typeof value !== 'function') {
      if (cached) throw staleCache(`${file} no longer exports ${exported}`)
      throw new UserError(`${file} does not export a class as ${exported}.`)
    }
    return value
  }
  const report = {
    events: new Map<string, EventClass>(),
    listeners: [] as Array<{ file: string; listener: Function; events: readonly EventKey[] }>,
    subscribers: [] as Array<{ file: string; subscriber: Function }>,
    declared: new Map<string, StringEventDeclaration>(),
    cached,
    manifest,
  }
  for (const { name, file, export: exported } of manifest.events) {
    report.events.set(name, (await load(file, exported)) as EventClass)
  }
  const declaredIn = new Map<string, string>()
  for (const { file, export: exported } of manifest.declarations ?? []) {
    const value = await exportOf(file, exported)
    if (!isDeclaredEvents(value)) {
      if (cached) throw staleCache(`${file} no longer exports ${exported} from defineEvents()`)
      throw new UserError(`${file} does not export defineEvents(...) as ${exported}.`)
    }
    for (const [name, declaration] of Object.entries(value)) {
      const classFile = manifest.events.find((event) => event.name === name)?.file
      const other = declaredIn.get(name) ?? (classFile === undefined ? undefined : `the event class in ${classFile}`)
      if (other !== undefined) {
        throw new UserError(`Event "${name}" is declared twice, in ${file} and ${other}: declare it once.`)
      }
      declaredIn.set(name, file)
      report.declared.set(name, declaration)
    }
  }
  for (const { file, export: exported, events } of manifest.listeners) {
    const listener = await load(file, exported)
    try {
      dispatcher.listen(events, listener as never)
    } catch (error) {
      throw new UserError(`${file}: ${errorMessage(error)}`)
    }
    report.listeners.push({ file, listener, events })
  }
  for (const { file, export: exported } of manifest.subscribers) {
    const subscriber = await load(file, exported)
    try {
      dispatcher.subscribe(subscriber as new () => object)
    } catch (error) {
      throw new UserError(`${file}: ${errorMessage(error)}`)
    }
    report.subscribers.push({ file, subscriber })
  }
  return report
}

function staleCache(reason: string): UserError {
  return new UserError(`The event cache is stale (${reason}): run "artisan event:cache" again, or "artisan event:clear".`)
}

/** Scans and registers: what boot does when there is no event cache. */
export async function discoverEvents(dispatcher: Dispatcher, paths: DiscoveryPaths, root: string): Promise<DiscoveryReport> {
  return registerDiscovered(dispatcher, await scanEvents(paths, root), root, false)
}
