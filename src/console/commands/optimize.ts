import { relative } from 'node:path'
import { UserError } from '../../foundation/errors.ts'
import { clearCommandCache, scanApplicationCommands, writeCommandCache } from '../app-commands.ts'
import type { CommandHandler } from '../command.ts'
import eventCache from './event-cache.ts'

/**
 * `artisan optimize`: what a deploy runs after `npm ci`. Caches the events manifest (as
 * `event:cache` does) and the application commands manifest, which `list` and every artisan
 * run then read instead of scanning app/commands.
 */
const optimize: CommandHandler = async (context) => {
  const { cwd, output } = context
  clearCommandCache(cwd)
  const { entries, problems } = scanApplicationCommands(cwd)
  if (problems.length > 0) throw new UserError(problems[0]!.message)
  const code = await eventCache(context)
  if (typeof code === 'number' && code !== 0) return code
  const path = writeCommandCache(cwd, entries)
  output.line(`Commands cached: ${entries.length} application command${entries.length === 1 ? '' : 's'} in ${relative(cwd, path)}.`)
  return 0
}

export default optimize
