import { clearEventCache } from '../../events/event-cache.ts'
import { clearCommandCache } from '../app-commands.ts'
import type { CommandHandler } from '../command.ts'

/** `artisan optimize:clear`: boot scans app/ for events again, and list scans app/commands. */
const optimizeClear: CommandHandler = ({ cwd, output }) => {
  output.line(clearEventCache(cwd) ? 'Cached events cleared.' : 'There was no event cache.')
  output.line(clearCommandCache(cwd) ? 'Cached commands cleared.' : 'There was no commands cache.')
  return 0
}

export default optimizeClear
