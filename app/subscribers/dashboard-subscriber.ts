import { facadeRoot, type Dispatcher } from 'herald'
import { toDashboard } from '../services/dashboard.ts'

/**
 * Feeds every dispatched event to the dashboard's live event feed, its payload through the
 * `events.redact` rules (config/events.ts): the feed is for operators, not for the event's own
 * listeners, so it sees what the log and the event store see.
 */
export default class DashboardSubscriber {
  subscribe(events: Dispatcher) {
    events.listen('*', (eventName, payload) => {
      const redact = facadeRoot().make('events.redactor')
      return toDashboard('event.dispatched', { name: eventName, at: new Date().toISOString(), payload: redact(payload) })
    })
  }
}
