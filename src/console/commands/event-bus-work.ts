import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'

/**
 * `artisan event-bus:work`: consumes this service's event bus subscriptions (and relays the
 * outbox) until SIGTERM or SIGINT, which finish the events in hand; then exits 0.
 */
const eventBusWork: CommandHandler = async ({ app, output }) => {
  if (!app) throw new Error('event-bus:work needs the booted application')
  const bus = app.make('event-bus')
  if (bus.driverName === 'local') {
    throw new UserError('The event bus driver is "local": its subscriptions run in the publishing process. Set EVENT_BUS_DRIVER=redis to consume with event-bus:work.')
  }
  const names = [...new Set([...bus.subscriptions.names(false), ...bus.subscriptions.names(true)])]
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  try {
    await bus.work({
      signal: stop.signal,
      onReady: () => {
        if (names.length === 0) output.line(`  No subscriptions: relaying the outbox only (subscribe with EventBus.subscribe in a provider's boot()).`)
        else output.line(`  Consuming ${names.map((name) => `[${name}]`).join(', ')} as service "${bus.service}" (consumer ${bus.consumer}).`)
      },
    })
  } finally {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
  output.line('  Stopped.')
  return 0
}

export default eventBusWork
