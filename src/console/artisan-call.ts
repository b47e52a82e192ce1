import type { Application } from '../foundation/application.ts'
import { UserError } from '../foundation/errors.ts'
import type { OutputStreams } from './output.ts'
import type { PromptAnswers } from './prompts.ts'
import { bootApplication, facadeRoot } from '../support/application-root.ts'

/** A command's input from code, Laravel style: arguments by name, options with their dashes. */
export type CommandParameters = Readonly<Record<string, string | number | bigint | boolean | null | undefined | ReadonlyArray<string | number>>>

export interface CallOptions {
  /** The project (default: the running application's basePath, else process.cwd()). */
  readonly cwd?: string
  /** The application to run in (default: the booted one the facades use; else one is booted, then shut down). */
  readonly app?: Application
  /** Where the command writes; default: captured, read with `Artisan.output()`. */
  readonly streams?: OutputStreams
  /** Answers to the command's prompts, by question. */
  readonly answers?: PromptAnswers
}

export interface CommandResult {
  readonly code: number
  /** stdout and stderr, in the order written. */
  readonly output: string
  readonly stdout: string
  readonly stderr: string
}

/** The argument names of `name`, in order: what positional parameters are matched against. */
async function argumentNames(name: string, cwd: string): Promise<readonly string[] | null> {
  // Loaded on the first call: importing 'herald' loads no console code.
  const [{ commands }, { loadApplicationCommands }] = await Promise.all([import('./manifest.ts'), import('./app-commands.ts')])
  const frameworkNames = new Set(commands.map((definition) => definition.name))
  const framework = commands.find((definition) => definition.name === name)
  if (framework !== undefined) return (framework.arguments ?? []).map((argument) => argument.name)
  const entry = loadApplicationCommands(cwd, frameworkNames).entries.find((candidate) => candidate.name === name)
  return entry === undefined ? null : entry.signature.arguments.map((argument) => argument.name)
}

/** `{ user: 7, '--dry-run': true, '--tag': ['a', 'b'] }` → `--dry-run --tag=a --tag=b -- 7`. */
async function commandLine(name: string, parameters: CommandParameters, cwd: string): Promise<string[]> {
  const names = await argumentNames(name, cwd)
  const options: string[] = []
  for (const [key, value] of Object.entries(parameters)) {
    if (!key.startsWith('--')) continue
    if (value === false || value === null || value === undefined) continue
    if (value === true) options.push(key)
    else for (const item of Array.isArray(value) ? value : [value]) options.push(`${key}=${String(item)}`)
  }
  // An unknown command: the kernel says so, with its suggestion.
  if (names === null) return [name, ...options]
  for (const key of Object.keys(parameters)) {
    if (!key.startsWith('--') && !names.includes(key)) {
      throw new UserError(`The command "${name}" has no argument "${key}"${names.length > 0 ? ` (it has ${names.join(', ')})` : ''}; options are given as '--name'.`)
    }
  }
  const positional = names.flatMap((argument) => {
    const value = parameters[argument]
    if (value === undefined || value === null) return []
    return (Array.isArray(value) ? value : [value]).map(String)
  })
  return [name, ...options, ...(positional.length > 0 ? ['--', ...positional] : [])]
}

function capture(): { streams: OutputStreams; result: () => Omit<CommandResult, 'code'> } {
  const all: string[] = []
  const out: string[] = []
  const err: string[] = []
  const stream = (into: string[]) => ({
    write(chunk: string) {
      into.push(chunk)
      all.push(chunk)
      return true
    },
  })
  return { streams: { stdout: stream(out), stderr: stream(err) }, result: () => ({ output: all.join(''), stdout: out.join(''), stderr: err.join('') }) }
}

function runningApplication(options: CallOptions): Application | undefined {
  if (options.app !== undefined) return options.app
  const root = facadeRoot()
  return root.isBooted && (options.cwd === undefined || root.basePath === options.cwd) ? root : undefined
}

async function call(name: string, parameters: CommandParameters, options: CallOptions, streams: OutputStreams): Promise<number> {
  const app = runningApplication(options)
  const cwd = options.cwd ?? app?.basePath ?? process.cwd()
  let argv: string[]
  try {
    argv = await commandLine(name, parameters, cwd)
  } catch (error) {
    if (!(error instanceof UserError)) throw error
    streams.stderr.write(`${error.message}\n`)
    return 1
  }
  const { runArtisan } = await import('./kernel.ts')
  return runArtisan(argv, {
    cwd,
    streams,
    boot: (basePath) => bootApplication({ basePath }),
    ...(app === undefined ? {} : { app }),
    ...(options.answers === undefined ? {} : { answers: options.answers }),
  })
}

let lastOutput = ''

/**
 * Artisan from code: `await Artisan.call('digest:send', { user: 7, '--dry-run': true })` runs
 * the command in this process and resolves to its exit code; `Artisan.output()` is what it
 * wrote. In a running application it runs in that application (not booted again, not shut down).
 */
export const Artisan = {
  async call(name: string, parameters: CommandParameters = {}, options: CallOptions = {}): Promise<number> {
    if (options.streams !== undefined) return call(name, parameters, options, options.streams)
    const captured = capture()
    try {
      return await call(name, parameters, options, captured.streams)
    } finally {
      lastOutput = captured.result().output
    }
  },

  /** What the last `Artisan.call` without its own streams wrote (stdout and stderr). */
  output(): string {
    return lastOutput
  },
}

/**
 * Runs a command in-process for a test and returns its exit code and output:
 *
 * ```ts
 * const { code, output } = await runCommand('digest:send', { user: 7, '--dry-run': true }, { cwd })
 * ```
 */
export async function runCommand(name: string, parameters: CommandParameters = {}, options: Omit<CallOptions, 'streams'> = {}): Promise<CommandResult> {
  const captured = capture()
  const code = await call(name, parameters, options, captured.streams)
  return { code, ...captured.result() }
}
