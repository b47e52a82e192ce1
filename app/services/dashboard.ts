import { Broadcast, facadeRoot } from 'herald'

/** The public channel the dashboard (GET /) listens on. */
export const DASHBOARD_CHANNEL = 'dashboard'

/**
 * Sends a message to the dashboard's clients now. A dashboard that cannot be reached (a
 * worker whose web server is down) must not fail the event or the job it reports on: the
 * failure is logged.
 */
export function toDashboard(name: string, data: Record<string, unknown>): Promise<void> {
  return Broadcast.on(DASHBOARD_CHANNEL)
    .as(name)
    .with(data)
    .sendNow()
    .catch((error: unknown) => facadeRoot().logger.warn(`The dashboard did not get ${name}: ${error instanceof Error ? error.message : String(error)}`))
}
