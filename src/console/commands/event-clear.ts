import { clearEventCache } from '../../events/event-cache.ts'
import type { CommandHandler } from '../command.ts'

/** `artisan event:clear`: boot scans app/ again. */
const eventClear: CommandHandler = ({ cwd, output }) => {
  output.line(clearEventCache(cwd) ? 'Cached events cleared.' : 'There was no event cache.')
  return 0
}

export default eventClear
