import type { CommandDefinition } from './command.ts'
import { queueCommands } from './manifest-queue.ts'

/**
 * Every artisan command's metadata. The kernel builds the commander program from this list
 * and imports a command's module only when that command runs, so `artisan list` and the
 * generators never load the heavy engines.
 */
export const commands: readonly CommandDefinition[] = [
  {
    name: 'list',
    description: 'List the commands',
    boots: false,
    load: () => import('./commands/list.ts'),
  },
  {
    name: 'about',
    description: 'Show the application, its environment, and its events and listeners',
    boots: true,
    load: () => import('./commands/about.ts'),
  },
  {
    name: 'serve',
    description: 'Serve the application: HTTP, socket.io and a queue worker in one process (npm start)',
    options: [
      { flags: '--port <port>', description: 'The port (default: PORT or 3000; 0 picks a free one)' },
      { flags: '--host <host>', description: 'The address to listen on (default: HOST or 127.0.0.1)' },
      { flags: '--no-worker', description: 'Leave queued jobs to `artisan queue:work`' },
      { flags: '--watch', description: 'Restart on a change to app/, config/, database/migrations or .env (npm run dev)' },
    ],
    // Booted by the command itself: under --watch only the supervised child boots.
    boots: false,
    load: () => import('./commands/serve.ts'),
  },
  {
    name: 'key:generate',
    description: 'Set APP_KEY in .env to a new random key (creating .env from .env.example if missing)',
    options: [
      { flags: '--show', description: 'Print a new key, write nothing' },
      { flags: '--force', description: 'Replace a key that is already set' },
    ],
    boots: false,
    load: () => import('./commands/key-generate.ts'),
  },
  {
    name: 'event:cache',
    description: "Discover the application's events and listeners once and cache the result for boot",
    boots: false,
    load: () => import('./commands/event-cache.ts'),
  },
  {
    name: 'event:clear',
    description: 'Remove the event cache, so boot scans app/ again',
    boots: false,
    load: () => import('./commands/event-clear.ts'),
  },
  // Issue 17: the caches that keep boot and `list` from scanning app/.
  {
    name: 'optimize',
    description: 'Cache the events manifest and the application commands manifest (run it on deploy)',
    boots: false,
    load: () => import('./commands/optimize.ts'),
  },
  {
    name: 'optimize:clear',
    description: 'Remove the events and commands caches, so boot and list scan app/ again',
    boots: false,
    load: () => import('./commands/optimize-clear.ts'),
  },
  {
    name: 'event:history',
    description: 'List the events in the event store, newest first',
    options: [
      { flags: '--event <names>', description: 'Only these events (comma separated)' },
      { flags: '--tag <tag>', description: "Only events whose class has this tag (static tags)" },
      { flags: '--stream <id>', description: "Only this stream's events (an aggregate's id)" },
      { flags: '--correlation <id>', description: 'Only events of this correlation chain' },
      { flags: '--since <date>', description: 'Only events from this ISO date or time on' },
      { flags: '--until <date>', description: 'Only events up to this ISO date or time' },
      { flags: '--limit <n>', description: 'At most this many (default 50)' },
      { flags: '--json', description: 'Output JSON' },
    ],
    boots: true,
    load: () => import('./commands/event-history.ts'),
  },
  {
    name: 'event:replay',
    description: 'Dispatch stored events again, oldest first, to their listeners (not stored again)',
    options: [
      { flags: '--from <id|date>', description: 'From this event id (or ISO date) on, inclusive' },
      { flags: '--to <id|date>', description: 'Up to this event id (or ISO date), inclusive' },
      { flags: '--event <names>', description: 'Only these events (comma separated)' },
      { flags: '--listener <name>', description: 'Run only this listener' },
      { flags: '--dry-run', description: 'List what would be replayed' },
    ],
    boots: true,
    load: () => import('./commands/event-replay.ts'),
  },
  {
    name: 'event:prune',
    description: 'Delete dispatch-log rows older than an age from the event store (stream events are kept)',
    options: [{ flags: '--older-than <age>', description: 'An age such as 90d or 12h (default: EVENTS_STORE_RETENTION_DAYS)' }],
    boots: true,
    load: () => import('./commands/event-prune.ts'),
  },
  {
    name: 'event:list',
    description: "List the application's events and listeners",
    options: [
      { flags: '--event <name>', description: 'Only events whose name contains this' },
      { flags: '--category <name>', description: 'Only events of this category (static category, or category in defineEvents())' },
      { flags: '--json', description: 'Output JSON' },
    ],
    boots: true,
    load: () => import('./commands/event-list.ts'),
  },
  {
    name: 'event:show',
    description: 'Show one event: its description, tags, payload schema, an example payload and its listeners',
    arguments: [{ name: 'name', description: 'The event name, e.g. OrderPlaced', required: true }],
    options: [{ flags: '--json', description: 'Output JSON' }],
    boots: true,
    load: () => import('./commands/event-show.ts'),
  },
  {
    name: 'event:dispatch',
    description: 'Dispatch an event from the shell, built from a JSON payload or its catalog example, and show what ran',
    arguments: [{ name: 'name', description: 'The event, e.g. OrderPlaced or export.finished', required: true }],
    options: [
      { flags: '--payload <json>', description: 'The payload, a JSON object (checked by the schema of the event)' },
      { flags: '--example', description: 'Use the example payload of the catalog (artisan event:show)' },
    ],
    boots: true,
    load: () => import('./commands/event-dispatch.ts'),
  },
  {
    name: 'tinker',
    description: 'Interact with the booted application in a REPL (facades and app/ classes in scope, top-level await)',
    options: [{ flags: '--execute <code>', description: 'Run this code, print its result and exit' }],
    boots: true,
    load: () => import('./commands/tinker.ts'),
  },
  {
    name: 'route:list',
    description: 'List the HTTP routes: method, path, middleware and handler',
    options: [{ flags: '--json', description: 'Output JSON' }],
    boots: true,
    load: () => import('./commands/route-list.ts'),
  },
  {
    name: 'channel:list',
    description: 'List the broadcast channels app/channels.ts authorizes, with the file that authorizes each',
    options: [{ flags: '--json', description: 'Output JSON' }],
    boots: true,
    load: () => import('./commands/channel-list.ts'),
  },
  // The generators render stubs and write files: they never boot the application.
  {
    name: 'make:event',
    description: 'Create an event class in app/events',
    arguments: [{ name: 'name', description: 'The event class, e.g. OrderShipped or Admin/UserBanned', required: true }],
    options: [
      { flags: '--broadcast', description: 'Broadcast it to clients (ShouldBroadcast)' },
      { flags: '--queued', description: 'Mark it ShouldQueue' },
      { flags: '--test', description: 'Also create its test' },
      { flags: '--force', description: 'Overwrite existing files' },
    ],
    boots: false,
    load: () => import('./commands/make-event.ts'),
  },
  {
    name: 'make:listener',
    description: 'Create a listener in app/listeners, discovered with no registration',
    arguments: [{ name: 'name', description: 'The listener class, e.g. SendShipmentNotification', required: true }],
    options: [
      {
        flags: '--event <event>',
        description: 'The event: a class (OrderShipped, created if missing) or a name (order.shipped, orders.*)',
      },
      { flags: '--queued', description: 'Run it on the queue (ShouldQueue)' },
      { flags: '--test', description: 'Also create its test (and the new event’s)' },
      { flags: '--force', description: 'Overwrite existing files' },
    ],
    boots: false,
    load: () => import('./commands/make-listener.ts'),
  },
  {
    name: 'make:subscriber',
    description: 'Create an event subscriber in app/subscribers',
    arguments: [{ name: 'name', description: 'The subscriber class, e.g. OrderLifecycle', required: true }],
    options: [
      {
        flags: '--events <events...>',
        description: 'Events, each routed to a method, apart or comma separated (OrderShipped task.completed); put the name first',
      },
      { flags: '--test', description: 'Also create its test' },
      { flags: '--force', description: 'Overwrite existing files' },
    ],
    boots: false,
    load: () => import('./commands/make-subscriber.ts'),
  },
  {
    name: 'make:job',
    description: 'Create a job class in app/jobs, registered at boot',
    arguments: [{ name: 'name', description: 'The job class, e.g. ProcessPodcast or Media/ProcessPodcast', required: true }],
    options: [
      { flags: '--sync', description: 'A job that is never queued: run it with dispatchSync' },
      { flags: '--test', description: 'Also create its test' },
      { flags: '--force', description: 'Overwrite existing files' },
    ],
    boots: false,
    load: () => import('./commands/make-job.ts'),
  },
  {
    name: 'make:test',
    description: 'Create a test: a feature test that boots the app, or with --unit a unit test',
    arguments: [{ name: 'name', description: 'The test, e.g. OrderFlow (tests/feature/order-flow.test.ts)', required: true }],
    options: [
      { flags: '--unit', description: 'A unit test in tests/unit, with no application' },
      { flags: '--force', description: 'Overwrite an existing file' },
    ],
    boots: false,
    load: () => import('./commands/make-test.ts'),
  },
  {
    name: 'stub:publish',
    description: 'Copy the default generator stubs into stubs/ for customising',
    options: [{ flags: '--force', description: 'Overwrite stubs you have edited' }],
    boots: false,
    load: () => import('./commands/stub-publish.ts'),
  },
  // Issue 17: the application's own commands (app/commands).
  {
    name: 'make:command',
    description: 'Create an artisan command in app/commands, discovered with no registration',
    arguments: [{ name: 'name', description: 'The command class, e.g. SendDigest or Billing/PruneInvoices', required: true }],
    options: [
      { flags: '--command <name>', description: 'The name it runs as, e.g. digest:send (default: app:<file name>)' },
      { flags: '--test', description: 'Also create its test' },
      { flags: '--force', description: 'Overwrite existing files' },
    ],
    boots: false,
    load: () => import('./commands/make-command.ts'),
  },
  ...queueCommands,
  {
    name: 'event-bus:work',
    description: "Consume this service's event bus subscriptions and relay the outbox until stopped (SIGTERM/SIGINT finish the events in hand)",
    boots: true,
    load: () => import('./commands/event-bus-work.ts'),
  },
  {
    name: 'event-bus:status',
    description: 'Show the event bus streams and consumer groups, with pending and lag, and the outbox size',
    options: [{ flags: '--json', description: 'Output JSON' }],
    boots: true,
    load: () => import('./commands/event-bus-status.ts'),
  },
  {
    name: 'migrate',
    description: 'Run the pending database migrations (database/migrations)',
    options: [{ flags: '--database <name>', description: 'The database connection (config/database.ts); the default one when omitted' }],
    boots: true,
    load: () => import('./commands/migrate.ts'),
  },
  {
    name: 'migrate:rollback',
    description: 'Revert the last batch of migrations',
    options: [{ flags: '--database <name>', description: 'The database connection (config/database.ts); the default one when omitted' }],
    boots: true,
    load: () => import('./commands/migrate-rollback.ts'),
  },
  {
    name: 'migrate:status',
    description: 'Show each migration, ran (with its batch) or pending',
    options: [{ flags: '--database <name>', description: 'The database connection (config/database.ts); the default one when omitted' }],
    boots: true,
    load: () => import('./commands/migrate-status.ts'),
  },
  {
    name: 'schedule:work',
    description: 'Run the scheduled tasks at the start of every minute, in the foreground (SIGTERM/SIGINT finish the running tasks)',
    options: [{ flags: '--now <time>', description: 'Testing aid: start the clock at this ISO time (2026-12-04T07:59:58Z)' }],
    boots: true,
    load: () => import('./commands/schedule-work.ts'),
  },
  {
    name: 'schedule:run',
    description: 'Run the scheduled tasks due now, then exit (for a system cron: * * * * *)',
    options: [{ flags: '--now <time>', description: 'Testing aid: run as if it were this ISO time (2026-12-04T08:00:00Z)' }],
    boots: true,
    load: () => import('./commands/schedule-run.ts'),
  },
  {
    name: 'schedule:list',
    description: 'List the scheduled tasks with their schedule in words and their next due time',
    options: [
      { flags: '--json', description: 'Output JSON' },
      { flags: '--now <time>', description: 'Testing aid: next due times from this ISO time' },
    ],
    boots: true,
    load: () => import('./commands/schedule-list.ts'),
  },
  {
    name: 'schedule:test',
    description: 'Run one scheduled task now, whatever its schedule',
    options: [
      { flags: '--name <name>', description: 'The task (its name, or a unique part of it)' },
      { flags: '--now <time>', description: 'Testing aid: run as if it were this ISO time' },
    ],
    boots: true,
    load: () => import('./commands/schedule-test.ts'),
  },
]
