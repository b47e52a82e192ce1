import { Broadcast, PrivateChannel, facadeRoot } from 'herald'

/**
 * The channel the dashboard (GET /) listens on: private (`private-dashboard`), authorized by
 * the `dashboard` entry of app/channels.ts, since it carries every event and job.
 */
export const DASHBOARD_CHANNEL = new PrivateChannel('dashboard')

let warned = false

/**
 * Sends a message to the dashboard's clients now. A dashboard that cannot be reached (a
 * worker whose web server is down, or without APP_KEY) must not fail the event or the job it
 * reports on: the first failure is a warning, the next ones debug lines.
 */
export function toDashboard(name: string, data: Record<string, unknown>): Promise<void> {
  return Broadcast.on(DASHBOARD_CHANNEL)
    .as(name)
    .with(data)
    .sendNow()
    .catch((error: unknown) => {
      const logger = facadeRoot().logger
      const message = `The dashboard did not get ${name}: ${error instanceof Error ? error.message : String(error)}`
      if (warned) return logger.debug(message)
      warned = true
      logger.warn(`${message} (further failures are logged at debug level)`)
    })
}
