import type { StoredEvent } from '../../events/store/stored-events-table.ts'
import type { CommandHandler } from '../command.ts'
import type { Output } from '../output.ts'
import { onDatabase } from '../service-failure.ts'
import { checkRange, parseDate, parseLimit, parseNames, parseText } from '../stored-event-input.ts'

/** The table `event:history` and `event:replay --dry-run` print. */
export function printStoredEvents(output: Output, events: readonly StoredEvent[]): void {
  output.table(
    ['ID', 'Time', 'Name', 'Correlation'],
    events.map((event) => [event.id, event.occurredAt.toISOString(), event.name, event.correlationId]),
  )
}

/** `artisan event:history`: the latest stored events, newest first; `--tag`, `--stream`, `--correlation` narrow them. */
const eventHistory: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('event:history needs the booted application')
  const since = parseDate(options.since, '--since')
  const until = parseDate(options.until, '--until')
  checkRange(since, until, '--since and --until')
  const filter = {
    events: parseNames(options.event),
    tag: parseText(options.tag, '--tag', 'orders'),
    streamId: parseText(options.stream, '--stream', 'account-7'),
    correlationId: parseText(options.correlation, '--correlation', '01JC9Z6Q3X4Y5Z6A7B8C9D0E1F'),
    since,
    until,
    limit: parseLimit(options.limit, 50),
    order: 'desc' as const,
  }
  const events = await onDatabase(app, app.config.get('events').store.connection, () => app.make('events.store').history(filter))
  if (options.json === true) {
    output.json(events)
    return 0
  }
  if (events.length === 0) {
    output.line('No stored events.')
    if (!app.config.get('events').store.enabled) output.line(output.paint('The event store is off: set EVENTS_STORE_ENABLED=true to record every dispatched event.', 'dim'))
    return 0
  }
  printStoredEvents(output, events)
  return 0
}

export default eventHistory
