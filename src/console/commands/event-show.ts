import { showEvent } from '../../events/event-listing.ts'
import type { CommandHandler } from '../command.ts'
import { oneLine } from '../quote-input.ts'
import { describeListener } from './event-list.ts'

function indented(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/^/gm, '  ')
}

/** `artisan event:show OrderPlaced`: one event's catalog entry and listeners. */
const eventShow: CommandHandler = ({ app, args, options, output }) => {
  if (!app) throw new Error('event:show needs the booted application')
  const event = showEvent(app.make('events'), app.make('events.discovery'), args[0]!)
  if (options.json) {
    output.json(event)
    return 0
  }
  // Names and texts come from application code: shown on their line, escapes and all.
  output.line(`${output.paint(oneLine(event.event), 'yellow')}${event.broadcast ? output.paint(' (broadcast)', 'cyan') : ''}`)
  if (event.description !== null) output.line(`  ${oneLine(event.description)}`)
  if (event.category !== null) output.line(`  ${output.paint('Category:', 'dim')} ${oneLine(event.category)}`)
  if (event.tags.length > 0) output.line(`  ${output.paint('Tags:', 'dim')} ${oneLine(event.tags.join(', '))}`)
  output.line()
  output.line(output.paint('Listeners', 'bold'))
  if (event.listeners.length === 0) output.line(output.paint('  (no listeners)', 'dim'))
  for (const listener of event.listeners) output.line(describeListener(listener, output))
  output.line()
  output.line(output.paint('Payload schema', 'bold'))
  output.line(event.schema === null ? output.paint('  (none: declare static schema, or schema in defineEvents() for a string event)', 'dim') : indented(event.schema))
  output.line()
  output.line(output.paint('Example payload', 'bold'))
  output.line(event.example === null ? output.paint('  (none: declare an example or a schema)', 'dim') : indented(event.example))
  return 0
}

export default eventShow
