import type { Application } from '../../foundation/application.ts'
import { UserError } from '../../foundation/errors.ts'
import { closeMatches } from '../../events/event-catalog.ts'
import { eventCategories, listEvents, type EventFilter, type EventListing, type ListedListener } from '../../events/event-listing.ts'
import type { CommandHandler } from '../command.ts'
import type { Output } from '../output.ts'
import { oneLine, quoteInput } from '../quote-input.ts'

/** One listener's line under its event; shared with `event:show`. */
export function describeListener(listener: ListedListener, output: Output): string {
  const method = listener.method ? `@${oneLine(listener.method)}` : ''
  const via = listener.pattern ? output.paint(` (wildcard ${oneLine(listener.pattern)})`, 'dim') : ''
  const queued = listener.queued ? output.paint(' (queued)', 'cyan') : ''
  return `  ⇂ ${oneLine(listener.name)}${method}${queued}${via}`
}

/**
 * The listing `event:list` prints. A category no event has is an error naming the close
 * ones (or all of them), not an empty list that reads like "no events": it is a typo more
 * often than not.
 */
function listing(app: Application, filter: EventFilter): EventListing {
  const listed = listEvents(app.make('events'), app.make('events.discovery'), filter)
  const { category } = filter
  if (category === undefined || listed.events.length > 0) return listed
  if (category.trim() === '') throw new UserError('--category is empty: give one, e.g. --category orders.')
  const categories = eventCategories(listEvents(app.make('events'), app.make('events.discovery')).events)
  if (categories.includes(category)) return listed
  const shown = quoteInput(category)
  if (categories.length === 0) {
    throw new UserError(`No event has category ${shown}: none declares one (static category, or category in defineEvents()).`)
  }
  const close = closeMatches(category, categories)
  throw new UserError(`No event has category ${shown}: ${close.length > 0 ? `did you mean ${close.join(', ')}?` : `the categories are ${categories.join(', ')}.`}`)
}

/** Prints the event listing; shared by `event:list` and `about`. */
export function printEventList(app: Application, output: Output, filter: EventFilter = {}): void {
  const { events, wildcards } = listing(app, filter)
  if (events.length === 0 && wildcards.length === 0) {
    output.line(filter.event ? `No events match ${quoteInput(filter.event)}.` : 'No events are registered.')
    return
  }
  for (const { event, broadcast, category, listeners } of events) {
    // Names and categories come from application code (any string works): shown on their line, escapes and all.
    const marks = `${broadcast ? output.paint(' (broadcast)', 'cyan') : ''}${category !== null ? output.paint(` [${oneLine(category)}]`, 'dim') : ''}`
    output.line(`${output.paint(oneLine(event), 'yellow')}${marks}`)
    if (listeners.length === 0) output.line(output.paint('  (no listeners)', 'dim'))
    for (const listener of listeners) output.line(describeListener(listener, output))
  }
  for (const { event, listeners } of wildcards) {
    output.line(`${output.paint(oneLine(event), 'cyan')} ${output.paint('(wildcard)', 'dim')}`)
    for (const listener of listeners) output.line(describeListener({ ...listener, pattern: null }, output))
  }
}

/** `artisan event:list [--event=NAME] [--category=NAME] [--json]`. */
const eventList: CommandHandler = ({ app, options, output }) => {
  if (!app) throw new Error('event:list needs the booted application')
  const filter: EventFilter = {
    ...(typeof options.event === 'string' ? { event: options.event } : {}),
    ...(typeof options.category === 'string' ? { category: options.category } : {}),
  }
  if (options.json) {
    output.json(listing(app, filter))
    return 0
  }
  printEventList(app, output, filter)
  return 0
}

export default eventList
