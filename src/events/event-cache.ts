import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { UserError } from '../foundation/errors.ts'
import type { DiscoveryManifest } from './discovery.ts'

/**
 * The event cache (`artisan event:cache`) lives with the project's other tool caches, in
 * node_modules/.cache: a fresh install drops it, as it should, since it names compiled
 * modules; `artisan event:cache` after install (in a deploy step) writes it again.
 */
export function eventCachePath(basePath: string): string {
  return join(basePath, 'node_modules', '.cache', 'herald', 'events.json')
}

export function readEventCache(basePath: string): DiscoveryManifest | null {
  const path = eventCachePath(basePath)
  if (!existsSync(path)) return null
  let manifest: DiscoveryManifest
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as DiscoveryManifest
  } catch {
    throw new UserError(`The event cache ${path} is not valid JSON: run "artisan event:clear".`)
  }
  if (manifest.version !== 1) throw new UserError(`The event cache ${path} has an unknown format: run "artisan event:cache" again.`)
  return manifest
}

export function writeEventCache(basePath: string, manifest: DiscoveryManifest): string {
  const path = eventCachePath(basePath)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
  return path
}

/** Removes the cache; true when there was one. */
export function clearEventCache(basePath: string): boolean {
  const path = eventCachePath(basePath)
  if (!existsSync(path)) return false
  rmSync(path)
  return true
}
