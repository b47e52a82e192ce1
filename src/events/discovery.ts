import { existsSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { UserError } from '../foundation/errors.ts'
import type { Dispatcher } from './dispatcher.ts'
import { eventClassName } from './dispatchable.ts'
import type { EventClass, EventKey } from './types.ts'

/** Where discovery looks, as absolute paths. */
export interface DiscoveryPaths {
  readonly events: string
  readonly listeners: string
  readonly subscribers: string
}

/** What discovery found and registered. */
export interface DiscoveryReport {
  /** Event classes exported from the events folder, by event name. */
  readonly events: Map<string, EventClass>
  readonly listeners: ReadonlyArray<{ readonly file: string; readonly listener: Function; readonly events: readonly EventKey[] }>
  readonly subscribers: ReadonlyArray<{ readonly file: string; readonly subscriber: Function }>
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

async function exportsOf(file: string): Promise<Array<[string, unknown]>> {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  return Object.entries(module)
}

function declaredEvents(value: Function): readonly EventKey[] | undefined {
  const events = (value as { events?: unknown }).events
  return Array.isArray(events) ? (events as EventKey[]) : undefined
}

function isSubscriberClass(value: Function): boolean {
  const proto = (value as { prototype?: Record<string, unknown> }).prototype
  return typeof proto?.subscribe === 'function' || declaredEvents(value) !== undefined
}

/**
 * Registers the listeners and subscribers found on disk: each listener class declares its
 * events itself (`extends Listener.for(OrderPlaced)` or `static events`), so nothing is
 * registered twice by hand. A default export that declares nothing is an error naming the
 * file; named exports that declare nothing are left alone (helpers).
 */
export async function discoverEvents(dispatcher: Dispatcher, paths: DiscoveryPaths, root: string): Promise<DiscoveryReport> {
  const report = {
    events: new Map<string, EventClass>(),
    listeners: [] as Array<{ file: string; listener: Function; events: readonly EventKey[] }>,
    subscribers: [] as Array<{ file: string; subscriber: Function }>,
  }
  for (const file of sourceFiles(paths.events)) {
    for (const [, value] of await exportsOf(file)) {
      if (typeof value === 'function' && value.prototype) report.events.set(eventClassName(value), value as EventClass)
    }
  }
  for (const file of sourceFiles(paths.listeners)) {
    const shown = relative(root, file)
    for (const [exported, value] of await exportsOf(file)) {
      if (typeof value !== 'function') continue
      const events = declaredEvents(value)
      if (events === undefined) {
        if (exported === 'default') {
          throw new UserError(
            `Listener "${value.name}" in ${shown} declares no events: extend Listener.for(SomeEvent) or set static events.`,
          )
        }
        continue
      }
      dispatcher.listen(events, value as never)
      report.listeners.push({ file: shown, listener: value, events })
    }
  }
  for (const file of sourceFiles(paths.subscribers)) {
    const shown = relative(root, file)
    for (const [exported, value] of await exportsOf(file)) {
      if (typeof value !== 'function') continue
      if (!isSubscriberClass(value)) {
        if (exported === 'default') {
          throw new UserError(`Subscriber "${value.name}" in ${shown} has neither subscribe(events) nor static events.`)
        }
        continue
      }
      dispatcher.subscribe(value as new () => object)
      report.subscribers.push({ file: shown, subscriber: value })
    }
  }
  return report
}
