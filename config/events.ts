import { defineConfig } from 'herald'

export default defineConfig((env) => ({
  // Register every listener in app/listeners and subscriber in app/subscribers at boot.
  discovery: env.boolean('EVENTS_DISCOVERY', true),
  paths: { events: 'app/events', listeners: 'app/listeners', subscribers: 'app/subscribers' },
}))
