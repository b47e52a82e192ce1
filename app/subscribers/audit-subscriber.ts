import type { Dispatcher } from 'herald'
import { auditLog } from '../services/audit-log.ts'

/** Writes every event, whatever its name, to the audit log: a wildcard subscriber. */
export default class AuditSubscriber {
  subscribe(events: Dispatcher) {
    events.listen('*', (eventName) => {
      auditLog.push({ event: eventName, at: new Date() })
    })
  }
}
