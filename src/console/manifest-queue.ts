import type { CommandDefinition } from './command.ts'

/**
 * The queue's commands (queue:work, failed jobs, batches, monitoring), listed by manifest.ts in
 * their place; each module is imported only when its command runs.
 */
export const queueCommands: readonly CommandDefinition[] = [
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
      { flags: '--max-disconnected <seconds>', description: 'Give up (exit 1) after this long without a connection to the queue (default 60; 0: never)' },
      { flags: '--json', description: 'One JSON line per job' },
      { flags: '--watch', description: 'Restart (after the jobs in hand) on a change to app/, config/, database/migrations or .env' },
    ],
    // Booted by the command itself: under --watch only the supervised child boots.
    boots: false,
    load: () => import('./commands/queue-work.ts'),
  },
  {
    name: 'queue:restart',
    description: 'Tell every queue:work (and serve\'s worker) to exit after the jobs in hand, for deploys',
    boots: true,
    load: () => import('./commands/queue-restart.ts'),
  },
  {
    name: 'queue:jobs',
    description: 'List the job classes of app/jobs with their file and queue options',
    options: [{ flags: '--json', description: 'Output JSON' }],
    boots: true,
    load: () => import('./commands/queue-jobs.ts'),
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
    name: 'queue:retry-batch',
    description: "Push a job batch's failed jobs back onto their queues",
    arguments: [{ name: 'id', description: 'The batch id (Bus.batch(...).dispatch() resolves to it)', required: true }],
    boots: true,
    load: () => import('./commands/queue-retry-batch.ts'),
  },
  {
    name: 'queue:prune-batches',
    description: 'Delete finished job batches',
    options: [{ flags: '--hours <n>', description: 'Those that finished more than this many hours ago (default 24)' }],
    boots: true,
    load: () => import('./commands/queue-prune-batches.ts'),
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
    name: 'queue:prune-failed',
    description: 'Delete the failed jobs older than some hours (default 24)',
    options: [{ flags: '--hours <n>', description: 'Keep the jobs that failed in the last this many hours (default 24)' }],
    boots: true,
    load: () => import('./commands/queue-prune-failed.ts'),
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
]
