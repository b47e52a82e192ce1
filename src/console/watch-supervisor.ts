import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { frameworkRoot } from '../foundation/framework-root.ts'
import type { Output } from './output.ts'

/** What a watched project's code lives in: a change there restarts the process. */
export const WATCHED_PATHS = ['app', 'config', 'database/migrations', '.env'] as const

/** The environment variable that tells a supervised `serve` / `queue:work` to wait for the supervisor's go. */
export const HANDOFF_ENV = 'HERALD_WATCH_HANDOFF'

/** Edits an editor makes in one save (write, rename, chmod) come within this: one restart for them all. */
const SETTLE_MS = 25

export interface SuperviseOptions {
  readonly cwd: string
  /** The artisan arguments of the supervised process (`serve --port 3000`), without `--watch`. */
  readonly argv: readonly string[]
  readonly output: Output
  /** What the process is called in messages: `server`, `worker`. */
  readonly label: string
}

/**
 * The message protocol between the supervisor and a supervised process (over the IPC channel):
 * the child loads the framework's modules (`warm`: a standby, started before any change) and
 * waits for `boot`, so that a restart costs only the application's own boot; then it boots,
 * gets ready (routes loaded, database migrated) and sends `ready`; it starts
 * listening (or working) only when the supervisor sends `go`, which it does once the previous
 * process has stopped gracefully. So the new code boots while the old still serves, and the port
 * is free when the new server binds it.
 */
export type HandoffMessage =
  | { readonly herald: 'warm' }
  | { readonly herald: 'boot' }
  | { readonly herald: 'ready' }
  | { readonly herald: 'go' }
  | { readonly herald: 'started' }

function isHandoff(message: unknown, kind: HandoffMessage['herald']): boolean {
  return typeof message === 'object' && message !== null && (message as { herald?: unknown }).herald === kind
}

/** Waits for one message of the supervisor, having sent `announce`. */
function handoff(announce: HandoffMessage, awaited: HandoffMessage['herald']): Promise<void> {
  if (process.env[HANDOFF_ENV] !== '1' || typeof process.send !== 'function') return Promise.resolve()
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (!isHandoff(message, awaited)) return
      process.off('message', onMessage)
      // The channel must not keep a stopped process alive.
      process.channel?.unref()
      resolve()
    }
    process.channel?.ref()
    process.on('message', onMessage)
    process.send!(announce)
  })
}

/**
 * In a supervised process, before the application boots: loads what every boot loads (the
 * TypeScript loader, the framework's providers, `extra` such as the web side's engines), says
 * it is warm, and resolves once the supervisor says boot (after a change). Outside one: at once.
 */
export async function awaitBootSignal(extra: () => Promise<unknown> = async () => undefined): Promise<void> {
  if (process.env[HANDOFF_ENV] !== '1' || typeof process.send !== 'function') return
  // A supervisor that died (killed, crashed) leaves no orphan: the channel closes, and the
  // process stops as on SIGTERM (jobs in hand first). The listener must not keep it alive.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
  process.channel?.unref()
  await Promise.all([import('tsx/esm/api'), import('../support/application-root.ts'), extra()])
  await handoff({ herald: 'warm' }, 'boot')
}

/**
 * In a supervised process: says it is ready, and resolves once the supervisor says go. Outside
 * one (no IPC channel, or not started by the supervisor) resolves at once.
 */
export function awaitHandoff(): Promise<void> {
  return handoff({ herald: 'ready' }, 'go')
}

/** In a supervised process: says it now serves (or works), so the supervisor can time the restart. */
export function reportStarted(): void {
  if (process.env[HANDOFF_ENV] === '1' && typeof process.send === 'function') process.send({ herald: 'started' } satisfies HandoffMessage)
}

interface Supervised {
  readonly child: ChildProcess
  readonly exited: Promise<number>
  readonly warm: Promise<boolean>
  readonly ready: Promise<boolean>
  readonly started: Promise<boolean>
}

/**
 * `serve --watch`, `queue:work --watch`: runs the command in a child process and restarts it when
 * app/, config/, database/migrations or .env change (chokidar). The new process boots beside the
 * old one; once it is ready, the old one gets SIGTERM (it finishes its jobs in hand, closes its
 * sockets: socket.io clients reconnect by themselves), and when it has exited the new one starts.
 * A new process that fails to boot (a syntax error) leaves the old one running. SIGTERM/SIGINT
 * stop the child gracefully, then the supervisor. Resolves to the exit code.
 */
export async function supervise(options: SuperviseOptions): Promise<number> {
  const { cwd, argv, output, label } = options
  const artisan = join(frameworkRoot(), 'bin/artisan')
  const start = (): Supervised => {
    const child = spawn(process.execPath, [artisan, ...argv], {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [HANDOFF_ENV]: '1' },
    })
    const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGTERM' ? 0 : 1))))
    const waitFor = (kind: HandoffMessage['herald']) =>
      new Promise<boolean>((resolve) => {
        const onMessage = (message: unknown) => {
          if (isHandoff(message, kind)) resolve(true)
        }
        child.on('message', onMessage)
        void exited.then(() => resolve(false))
      })
    return { child, exited, warm: waitFor('warm'), ready: waitFor('ready'), started: waitFor('started') }
  }
  /** Tells a (warm) process to boot; false when it exited first. */
  const boot = async (supervised: Supervised): Promise<boolean> => {
    if (!(await supervised.warm)) return false
    supervised.child.send({ herald: 'boot' } satisfies HandoffMessage)
    return supervised.ready
  }
  // The next process, warm before any change.
  let standby: Supervised | null = null
  const takeStandby = (): Supervised => {
    const next = standby ?? start()
    standby = null
    return next
  }
  const prepareStandby = () => {
    if (!stopping && standby === null) standby = start()
  }
  let stopping = false
  // From the start: a Ctrl+C while the first process boots stops it too, then the supervisor.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true
      resolve()
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })

  let current = start()
  if (!(await boot(current))) {
    const exit = await current.exited
    if (stopping) return exit
    output.error(`The ${label} did not start (exit ${exit}): fix the error above and run the command again.`)
    return 1
  }
  current.child.send({ herald: 'go' } satisfies HandoffMessage)
  await current.started
  prepareStandby()

  const { watch } = await import('chokidar')
  const watched = WATCHED_PATHS.filter((path) => existsSync(join(cwd, path)))
  const watcher = watch(watched.map((path) => join(cwd, path)), { ignoreInitial: true, ignored: (path) => /(^|[/\\])(node_modules|\.git)([/\\]|$)/.test(path) })
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  output.line(output.paint(`Watching ${watched.join(', ')}: the ${label} restarts on a change.`, 'dim'))

  let restarting: Promise<void> | null = null
  let again = false
  let timer: NodeJS.Timeout | null = null
  let changed: string[] = []

  const restart = async (): Promise<void> => {
    const files = changed.splice(0)
    const began = performance.now()
    output.line(output.paint(`Change in ${files.slice(0, 3).join(', ')}${files.length > 3 ? ` and ${files.length - 3} more` : ''}: restarting the ${label}…`, 'yellow'))
    const next = takeStandby()
    if (!(await boot(next))) {
      output.error(`The new ${label} did not start (exit ${await next.exited}): the old one keeps running; fix the error and save again.`)
      prepareStandby()
      return
    }
    const booted = performance.now()
    const old = current
    old.child.kill('SIGTERM')
    await old.exited
    const oldStopped = performance.now()
    if (stopping) {
      next.child.kill('SIGTERM')
      await next.exited
      return
    }
    current = next
    next.child.send({ herald: 'go' } satisfies HandoffMessage)
    if (await next.started) {
      const ms = (from: number, to: number) => `${Math.round(to - from)} ms`
      const now = performance.now()
      output.line(output.paint(`Restarted the ${label} in ${ms(began, now)} (new code booted in ${ms(began, booted)}, the old ${label} stopped in ${ms(booted, oldStopped)}).`, 'green'))
    }
    prepareStandby()
  }

  const schedule = (path: string) => {
    if (stopping) return
    changed.push(relative(cwd, path).split(sep).join('/'))
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      if (restarting !== null) {
        again = true
        return
      }
      const run = async () => {
        do {
          again = false
          await restart()
        } while (again && !stopping)
        restarting = null
      }
      restarting = run()
    }, SETTLE_MS)
  }
  watcher.on('all', (_event, path) => schedule(path))

  // Until a signal, or until the process exits by itself (queue:restart, --max-time, a crash)
  // while no restart is under way.
  let code = 0
  for (;;) {
    const watching = current
    const outcome = await Promise.race([stopped.then(() => 'stop' as const), watching.exited.then((exit) => exit)])
    if (outcome === 'stop') break
    if (restarting !== null) {
      await restarting
      if (current !== watching) continue
    }
    code = outcome
    output.line(`The ${label} exited (${outcome}); not watching any more.`)
    stopping = true
    break
  }
  if (timer !== null) clearTimeout(timer)
  await watcher.close()
  if (restarting !== null) await restarting
  const spare = standby as Supervised | null
  if (spare !== null && spare.child.exitCode === null) {
    spare.child.kill('SIGTERM')
    await spare.exited
  }
  if (current.child.exitCode === null && current.child.signalCode === null) {
    current.child.kill('SIGTERM')
    code = await current.exited
  }
  return code
}
