import type { Dispatcher } from 'herald'
import { toDashboard } from '../services/dashboard.ts'

/** Feeds every dispatched event, with its payload, to the dashboard's live event feed. */
export default class DashboardSubscriber {
  subscribe(events: Dispatcher) {
    events.listen('*', (eventName, payload) => toDashboard('event.dispatched', { name: eventName, at: new Date().toISOString(), payload }))
  }
}
