import { UserError } from '../../foundation/errors.ts'
import { Worker } from '../../queue/worker.ts'
import type { JobReport } from '../../queue/job-hooks.ts'
import { DEFAULT_RECONNECT_POLICY } from '../../queue/reconnect.ts'
import { queueRestartSignal } from '../../queue/restart-signal.ts'
import type { CommandContext, CommandHandler } from '../command.ts'
import { awaitBootSignal, awaitHandoff, reportStarted, supervise } from '../watch-supervisor.ts'
import type { Output } from '../output.ts'

/** The longest a Node timer can wait (2^31 - 1 ms), in seconds: a longer one fires at once. */
const MAX_SECONDS = 2_147_483

function number(options: Readonly<Record<string, unknown>>, key: string, fallback: number): number {
  const raw = options[key]
  if (raw === undefined) return fallback
  const value = typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN
  const flag = key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)
  if (!(value <= MAX_SECONDS)) throw new UserError(`--${flag} must be a number from 0 to ${MAX_SECONDS}, got "${String(raw)}".`)
  return value
}

function line(report: JobReport, output: Output): string {
  const time = report.startedAt.toISOString().replace('T', ' ').slice(0, 19)
  const ms = `${report.ms.toFixed(2)}ms`
  const dots = '.'.repeat(Math.max(3, 60 - report.name.length - ms.length))
  const colour = report.status === 'DONE' ? 'green' : report.status === 'FAIL' ? 'red' : 'yellow'
  const error = report.error ? `  ${output.paint(report.error, 'dim')}` : ''
  return `  ${output.paint(time, 'dim')} ${report.name} ${output.paint(dots, 'dim')} ${ms} ${output.paint(report.status, colour)}${error}`
}

/**
 * `artisan queue:work [connection]`: runs queued jobs until stopped. SIGTERM or SIGINT stops
 * taking jobs, lets those in hand finish, and exits 0; so does `artisan queue:restart`, run
 * anywhere (the worker polls its signal in the database), for deploys.
 */
const queueWork: CommandHandler = async (context) => {
  if (context.options.watch === true) return watchWorker(context)
  const { args, options, output } = context
  // Under `queue:work --watch`, a standby: boots the (changed) application on the supervisor's word.
  await awaitBootSignal(() => import('knex'))
  const app = context.app ?? (await context.boot())
  const manager = app.make('queue')
  const connection = args[0] ?? manager.defaultConnection
  // An unknown connection fails here, with the fix, before anything starts.
  manager.settings(connection)
  const queues =
    typeof options.queue === 'string' ? options.queue.split(',').map((queue) => queue.trim()).filter(Boolean) : manager.workQueues(connection)
  const once = options.once === true
  // No --timeout check against the connection's lease: a live worker renews the leases of its
  // jobs however long they run (the old retry_after warning no longer applies).
  const timeout = number(options, 'timeout', 60)
  // Read even with --once, so a bad value is refused whatever the other flags.
  const concurrency = Math.max(1, number(options, 'concurrency', 1))
  const maxJobs = number(options, 'maxJobs', 0)
  const json = options.json === true
  const worker = new Worker(manager, {
    connection,
    queues,
    concurrency: once ? 1 : concurrency,
    defaults: { tries: number(options, 'tries', 1), backoff: number(options, 'backoff', 0), timeout },
    sleep: number(options, 'sleep', 3),
    stopWhenEmpty: options.stopWhenEmpty === true,
    maxJobs: once ? 1 : maxJobs,
    maxTime: number(options, 'maxTime', 0),
    memory: number(options, 'memory', 512),
    onJob: (report) => (json ? output.line(JSON.stringify(report)) : output.line(line(report, output))),
    reconnect: { ...DEFAULT_RECONNECT_POLICY, maxDisconnected: number(options, 'maxDisconnected', DEFAULT_RECONNECT_POLICY.maxDisconnected) },
    onWarning: (message) => (json ? output.line(JSON.stringify({ warning: message })) : output.error(`  Warning: ${message}`)),
    restart: queueRestartSignal(app),
  })
  // Under `queue:work --watch`: booted; take jobs once the old worker has finished its own.
  await awaitHandoff()
  const stop = () => void worker.stop('signal')
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  if (!json) output.line(`  Processing jobs from the ${queues.map((q) => `[${q}]`).join(', ')} queue(s) on "${connection}".`)
  try {
    const running = worker.run()
    reportStarted()
    const summary = await running
    if (json) output.line(JSON.stringify({ stopped: summary }))
    else if (summary.reason === 'restart') output.line(`  Restarting: queue:restart was run, so this worker stops after its jobs in hand (${summary.processed} job(s), ${summary.failed} failed, ${summary.released} released); let your process manager start it again.`)
    else output.line(`  Stopped (${summary.reason}): ${summary.processed} job(s), ${summary.failed} failed, ${summary.released} released.`)
  } finally {
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
  }
  return 0
}

/**
 * `queue:work --watch`: the worker in a supervised child process, restarted (after its jobs in
 * hand) on a change to app/, config/, database/migrations or .env; the other flags pass through.
 */
function watchWorker({ cwd, args, options, output }: CommandContext): Promise<number> {
  const argv = ['queue:work', ...args]
  for (const [key, value] of Object.entries(options)) {
    if (key === 'watch' || value === undefined || value === false) continue
    const flag = `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`
    argv.push(...(value === true ? [flag] : [flag, String(value)]))
  }
  if (!output.ansi) argv.push('--no-ansi')
  return supervise({ cwd, argv, output, label: 'worker' })
}

export default queueWork
