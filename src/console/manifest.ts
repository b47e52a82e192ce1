import type { CommandDefinition } from './command.ts'

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
    ],
    boots: true,
    load: () => import('./commands/serve.ts'),
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
  {
    name: 'event:list',
    description: "List the application's events and listeners",
    options: [
      { flags: '--event <name>', description: 'Only events whose name contains this' },
      { flags: '--json', description: 'Output JSON' },
    ],
    boots: true,
    load: () => import('./commands/event-list.ts'),
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
      { flags: '--events <events>', description: 'Comma-separated events, each routed to a method (OrderShipped,task.completed)' },
      { flags: '--force', description: 'Overwrite an existing file' },
    ],
    boots: false,
    load: () => import('./commands/make-subscriber.ts'),
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
  {
    name: 'queue:work',
    description: 'Run queued jobs until stopped (SIGTERM/SIGINT finish the jobs in hand)',
    arguments: [{ name: 'connection', description: 'The queue connection (default: QUEUE_CONNECTION)' }],
    options: [
      { flags: '--queue <names>', description: 'Queues to work, highest priority first: high,default' },
      { flags: '--concurrency <n>', description: 'Jobs in hand at once (default 1)' },
      { flags: '--tries <n>', description: 'Attempts for jobs that set no tries (default 1)' },
      { flags: '--timeout <seconds>', description: 'Seconds a job may run when it sets no timeout (default 60)' },
      { flags: '--sleep <seconds>', description: 'Seconds to wait when there is no job (default 3)' },
      { flags: '--backoff <seconds>', description: 'Seconds before retrying a job that sets no backoff (default 0)' },
      { flags: '--once', description: 'Run one job, then stop' },
      { flags: '--stop-when-empty', description: 'Stop once the queues are empty' },
      { flags: '--max-jobs <n>', description: 'Stop after this many jobs' },
      { flags: '--max-time <seconds>', description: 'Stop after this many seconds' },
      { flags: '--memory <mb>', description: 'Stop once the process uses more memory than this (default 512)' },
      { flags: '--json', description: 'One JSON line per job' },
    ],
    boots: true,
    load: () => import('./commands/queue-work.ts'),
  },
  {
    name: 'queue:failed',
    description: 'List the failed jobs',
    options: [{ flags: '--json', description: 'Output JSON' }],
    boots: true,
    load: () => import('./commands/queue-failed.ts'),
  },
  {
    name: 'queue:retry',
    description: 'Push failed jobs back onto their queues',
    arguments: [{ name: 'ids', description: 'Failed job ids (comma separated), or all', required: true }],
    boots: true,
    load: () => import('./commands/queue-retry.ts'),
  },
  {
    name: 'queue:forget',
    description: 'Delete a failed job',
    arguments: [{ name: 'id', description: 'The id of the failed job', required: true }],
    boots: true,
    load: () => import('./commands/queue-forget.ts'),
  },
  {
    name: 'queue:flush',
    description: 'Delete all failed jobs',
    options: [{ flags: '--hours <n>', description: 'Only those that failed more than this many hours ago' }],
    boots: true,
    load: () => import('./commands/queue-flush.ts'),
  },
  {
    name: 'queue:clear',
    description: 'Delete the waiting jobs of a queue',
    arguments: [{ name: 'connection', description: 'The queue connection (default: QUEUE_CONNECTION)' }],
    options: [{ flags: '--queue <name>', description: 'The queue (default: the default queue of the connection)' }],
    boots: true,
    load: () => import('./commands/queue-clear.ts'),
  },
  {
    name: 'queue:monitor',
    description: 'Show queue sizes, flagging those above --max',
    arguments: [{ name: 'queues', description: 'connection:queue pairs, comma separated', required: true }],
    options: [{ flags: '--max <n>', description: 'Flag queues with more jobs than this (exit 1)' }, { flags: '--json', description: 'Output JSON' }],
    boots: true,
    load: () => import('./commands/queue-monitor.ts'),
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
]
