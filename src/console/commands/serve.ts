import { createMigrator } from '../../database/migrator.ts'
import { signingKey } from '../../foundation/app-key.ts'
import { UserError } from '../../foundation/errors.ts'
import { createApplicationHttpKernel } from '../../http/http-kernel.ts'
import { queueRestartSignal } from '../../queue/restart-signal.ts'
import { Worker, type WorkerSummary } from '../../queue/worker.ts'
import type { Application } from '../../foundation/application.ts'
import type { CommandContext, CommandHandler } from '../command.ts'
import type { Output } from '../output.ts'
import { awaitBootSignal, awaitHandoff, reportStarted, supervise } from '../watch-supervisor.ts'

/**
 * `artisan serve` (what `npm start` runs): migrates the database, then serves express and the
 * socket.io server on one port, with a queue worker for the default connection in the same
 * process unless `--no-worker`. SIGTERM/SIGINT: stop accepting, drain the worker, close. So does
 * `artisan queue:restart` (when the worker runs), so a process manager restarts it on new code.
 */
const serve: CommandHandler = async (context) => {
  if (context.options.watch === true) return watchServe(context)
  // Under `serve --watch`, a standby: the engines loaded, it boots the (changed) application on the supervisor's word.
  await awaitBootSignal(() => import('knex'))
  return serveApplication(context.app ?? (await context.boot()), context.options, context.output)
}

/**
 * `serve --watch` (`npm run dev`): the server in a supervised child process, restarted on a
 * change to app/, config/, database/migrations or .env, on the same port (`--port 0` picks one
 * free port for every restart).
 */
async function watchServe({ cwd, options, output }: CommandContext): Promise<number> {
  const argv = ['serve']
  if (options.port !== undefined) {
    const port = Number(options.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be a port number, got "${String(options.port)}".`)
    argv.push('--port', String(port === 0 ? await freePort(typeof options.host === 'string' ? options.host : '127.0.0.1') : port))
  }
  if (typeof options.host === 'string') argv.push('--host', options.host)
  if (options.worker === false) argv.push('--no-worker')
  if (output.ansi === false) argv.push('--no-ansi')
  return supervise({ cwd, argv, output, label: 'server' })
}

/** A port nothing listens on now: the one every restart of a watched server binds. */
async function freePort(host: string): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      server.close(() => (address !== null && typeof address === 'object' ? resolve(address.port) : reject(new Error('No free port'))))
    })
  })
}

async function serveApplication(app: Application, options: Readonly<Record<string, unknown>>, output: Output): Promise<number> {
  const port = Number(options.port ?? app.env.get('PORT') ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be a port number, got "${String(options.port)}".`)
  const host = typeof options.host === 'string' ? options.host : (app.env.get('HOST') ?? '127.0.0.1')
  // Before anything is migrated or bound: production without APP_KEY is one line and exit 1.
  signingKey(app.config.get('app'), app.logger)

  const runs = await (await createMigrator(app)).latest()
  for (const { name } of runs) output.line(`${output.paint('Migrated:', 'green')} ${name}`)

  const kernel = await createApplicationHttpKernel(app)
  // Under `serve --watch`: ready (migrated, routes loaded); listen once the old server has stopped.
  await awaitHandoff()
  const { port: listening } = await kernel.listen(port, host)

  const manager = app.make('queue')
  const worker =
    options.worker === false
      ? null
      : new Worker(manager, {
          connection: manager.defaultConnection,
          queues: [manager.defaultQueue()],
          concurrency: 1,
          defaults: { tries: 1, backoff: 0, timeout: 60 },
          sleep: 1,
          stopWhenEmpty: false,
          maxJobs: 0,
          maxTime: 0,
          memory: 0,
          onJob: (report) => output.line(`  ${report.name} ${report.status} (${report.ms.toFixed(1)} ms)`),
          onWarning: (message) => output.error(`  Warning: ${message}`),
          restart: queueRestartSignal(app),
        })
  const working = worker?.run()
  output.line(`Herald is serving http://${host}:${listening}${worker ? ` with a worker on ${manager.defaultConnection}:${manager.defaultQueue()}` : ''}. Press Ctrl+C to stop.`)
  reportStarted()

  // Until a signal, or until `queue:restart` stopped the worker (then the whole process exits,
  // since it runs the old code): either way the jobs in hand finish first.
  const restarted = await new Promise<boolean>((resolve, reject) => {
    const stop = () => resolve(false)
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    working?.then((summary: WorkerSummary) => {
      if (summary.reason !== 'restart') return
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      resolve(true)
    }, reject)
  })
  output.line(restarted ? 'Restarting: queue:restart was run; the worker finished its jobs in hand, stopping the server…' : 'Stopping: finishing the jobs in hand…')
  await worker?.stop()
  await working
  await kernel.close()
  output.line('Stopped.')
  return 0
}

export default serve
