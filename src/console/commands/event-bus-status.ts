import { errorMessage } from '../../foundation/error-message.ts'
import type { CommandHandler } from '../command.ts'

/** `artisan event-bus:status [--json]`: each stream and consumer group, with pending and lag, and the outbox's size. */
const eventBusStatus: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('event-bus:status needs the booted application')
  const bus = app.make('event-bus')
  const rows = await bus.status()
  // A missing outbox table is worth a line, not a failure of the whole status.
  const outbox = await bus.outboxSize().catch((error: unknown) => errorMessage(error))
  if (options.json === true) {
    output.json({ driver: bus.driverName, service: bus.service, outbox, streams: rows })
    return 0
  }
  output.line(`  Driver: ${bus.driverName}, service: ${bus.service}, waiting in the outbox: ${outbox}`)
  if (rows.length === 0) {
    output.line('  No streams.')
    return 0
  }
  output.table(
    ['Stream', 'Length', 'Group', 'Consumers', 'Pending', 'Lag'],
    rows.map((row) => [row.stream, String(row.length), row.group, String(row.consumers), String(row.pending), row.lag === null ? '?' : String(row.lag)]),
  )
  return 0
}

export default eventBusStatus
