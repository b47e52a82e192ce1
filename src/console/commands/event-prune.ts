import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import { onDatabase } from '../service-failure.ts'
import { parseAge } from '../stored-event-input.ts'

const DAY_MS = 86_400_000

/**
 * `artisan event:prune`: deletes the dispatch log's rows older than `--older-than` (`90d`,
 * `12h`), or than `events.store.retention` days (EVENTS_STORE_RETENTION_DAYS) without the flag.
 * The rows of event-sourced streams are kept: they are the aggregates' state.
 */
const eventPrune: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('event:prune needs the booted application')
  const config = app.config.get('events').store
  let age: number
  if (options.olderThan !== undefined) age = parseAge(options.olderThan, '--older-than')
  else if (config.retention !== null) age = config.retention * DAY_MS
  else throw new UserError('event:prune needs an age: pass --older-than=90d, or set EVENTS_STORE_RETENTION_DAYS in .env.')
  const cutoff = new Date(Date.now() - age)
  const deleted = await onDatabase(app, config.connection, () => app.make('events.store').prune(cutoff))
  output.line(`Pruned ${deleted} stored event(s) from before ${cutoff.toISOString()}; stream events are kept.`)
  return 0
}

export default eventPrune
