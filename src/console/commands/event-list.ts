import type { Application } from '../../foundation/application.ts'
import { listEvents, type ListedListener } from '../../events/event-listing.ts'
import type { CommandHandler } from '../command.ts'
import type { Output } from '../output.ts'
import { oneLine } from '../quote-input.ts'

/** One listener's line under its event; shared with `event:show`. */
export function describeListener(listener: ListedListener, output: Output): string {
  const method = listener.method ? `@${oneLine(listener.method)}` : ''
  const via = listener.pattern ? output.paint(` (wildcard ${oneLine(listener.pattern)})`, 'dim') : ''
  const queued = listener.queued ? output.paint(' (queued)', 'cyan') : ''
  return `  ⇂ ${oneLine(listener.name)}${method}${queued}${via}`
}

/** Prints the event listing; shared by `event:list` and `about`. */
export function printEventList(app: Application, output: Output, filter?: string): void {
  const listing = listEvents(app.make('events'), app.make('events.discovery'), filter)
  if (listing.events.length === 0 && listing.wildcards.length === 0) {
    output.line(filter ? `No events match "${filter}".` : 'No events are registered.')
    return
  }
  for (const { event, broadcast, listeners } of listing.events) {
    // Event names come from application code (any string works): shown on their line, escapes and all.
    output.line(`${output.paint(oneLine(event), 'yellow')}${broadcast ? output.paint(' (broadcast)', 'cyan') : ''}`)
    if (listeners.length === 0) output.line(output.paint('  (no listeners)', 'dim'))
    for (const listener of listeners) output.line(describeListener(listener, output))
  }
  for (const { event, listeners } of listing.wildcards) {
    output.line(`${output.paint(oneLine(event), 'cyan')} ${output.paint('(wildcard)', 'dim')}`)
    for (const listener of listeners) output.line(describeListener({ ...listener, pattern: null }, output))
  }
}

const eventList: CommandHandler = ({ app, options, output }) => {
  if (!app) throw new Error('event:list needs the booted application')
  const filter = typeof options.event === 'string' ? options.event : undefined
  if (options.json) {
    output.json(listEvents(app.make('events'), app.make('events.discovery'), filter))
    return 0
  }
  printEventList(app, output, filter)
  return 0
}

export default eventList
