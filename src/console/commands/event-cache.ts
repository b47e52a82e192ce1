import { relative } from 'node:path'
import { UserError } from '../../foundation/errors.ts'
import { clearEventCache, writeEventCache } from '../../events/event-cache.ts'
import type { CommandHandler } from '../command.ts'

/** `artisan event:cache`: scans once and writes the manifest that boot then reads. */
const eventCache: CommandHandler = async ({ cwd, output, boot }) => {
  // Drop the old cache first, so that the boot below scans the disk instead of reading it.
  clearEventCache(cwd)
  const app = await boot()
  if (!app.config.get('events').discovery) {
    throw new UserError('Event discovery is off (EVENTS_DISCOVERY=false): there is nothing to cache.')
  }
  const { manifest } = app.make('events.discovery')
  const path = writeEventCache(app.basePath, manifest)
  output.line(
    `Events cached: ${manifest.events.length} events, ${manifest.listeners.length} listeners, ${manifest.subscribers.length} subscribers in ${relative(cwd, path)}.`,
  )
  return 0
}

export default eventCache
