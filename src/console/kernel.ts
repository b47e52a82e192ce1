import { Command, CommanderError } from 'commander'
import { frameworkVersion } from '../foundation/framework-root.ts'
import type { Application } from '../foundation/application.ts'
import type { CommandDefinition } from './command.ts'
import { commands } from './manifest.ts'
import { UserError } from '../foundation/errors.ts'
import { isConnectionError } from '../foundation/service-errors.ts'
import { oneLine } from './quote-input.ts'
import { Output, type OutputStreams } from './output.ts'
import { errorMessage } from '../foundation/error-message.ts'
import { loadApplicationCommands, type AppCommandEntry, type AppCommands } from './app-commands.ts'
import { declareApplicationCommand, runApplicationCommand } from './app-command-runner.ts'
import type { PromptAnswers } from './prompts.ts'
import { suggestCommands } from './suggest.ts'

export interface ArtisanOptions {
  cwd?: string
  streams?: OutputStreams
  /** Boots the application for commands that need it (tests pass their own). */
  boot?: (cwd: string) => Promise<Application>
  /** An application that is booted already (Artisan.call from a running app): used, never shut down. */
  app?: Application
  /** Answers to application commands' prompts, by question (runCommand in tests). */
  answers?: PromptAnswers
  /**
   * Herald's public API, what `import 'herald'` gives (tinker's scope). bin/artisan, above every
   * floor, passes it, so no command imports src/index.ts from below it.
   */
  publicApi?: () => Promise<Record<string, unknown>>
}

async function defaultBoot(cwd: string): Promise<Application> {
  // Application code is TypeScript: register the loader now, and only for commands that boot.
  const { register } = await import('tsx/esm/api')
  register()
  const { bootApplication } = await import('../support/application-root.ts')
  return bootApplication({ basePath: cwd })
}

/**
 * Runs one artisan invocation and resolves to its exit code: 0 success, 1 a user error (one
 * line on stderr), 2 an internal error (with the stack under --verbose).
 */
export async function runArtisan(argv: readonly string[], options: ArtisanOptions = {}): Promise<number> {
  const streams = options.streams ?? { stdout: process.stdout, stderr: process.stderr }
  const cwd = options.cwd ?? process.cwd()
  const noAnsi = argv.includes('--no-ansi') || !streams.stdout.isTTY || 'NO_COLOR' in process.env
  const verbose = argv.includes('--verbose') || argv.includes('-v')
  const output = new Output(streams, !noAnsi)
  let exitCode = 0

  const program = new Command('artisan')
    .description('Herald artisan')
    .version(frameworkVersion(), '-V, --version')
    .option('--no-ansi', 'Disable ANSI colour')
    .option('-v, --verbose', 'Show stack traces of errors')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
      // commander puts its suggestion on a line of its own: "(Did you mean --limit?)".
      outputError: (text, write) => write(`${text.trim().split(/\r?\n/).join(' ')}\n`),
    })

  const boot = bootFor(options)
  for (const definition of commands) {
    const command = program.command(definition.name).description(definition.description)
    for (const argument of definition.arguments ?? []) {
      command.argument(argument.required ? `<${argument.name}>` : `[${argument.name}]`, argument.description)
    }
    for (const option of definition.options ?? []) command.option(option.flags, option.description)
    command.action(async (...received: unknown[]) => {
      exitCode = await runCommand(definition, received, output, cwd, boot, applicationDefinitions, options.publicApi ?? null)
    })
  }

  // Like artisan, no command at all lists the commands.
  const words = argv.filter((arg) => arg !== '--no-ansi' && arg !== '--verbose' && arg !== '-v')
  const args = words.length === 0 ? [...argv, 'list'] : [...argv]
  const chosen = args.find((arg) => !arg.startsWith('-'))
  let applicationDefinitions: readonly CommandDefinition[] = commands
  try {
    const application = loadApplicationCommands(cwd, frameworkNames)
    applicationDefinitions = [...commands, ...application.entries.map(listedDefinition)]
    for (const entry of application.entries) {
      const command = program.command(entry.name).description(entry.description)
      const readInput = declareApplicationCommand(command, entry)
      command.action(async () => {
        const context = { cwd, output, ...(options.answers ? { answers: options.answers } : {}) }
        exitCode = await withApplication(cwd, boot, async (bootOnce) => runApplicationCommand(entry, readInput(), { ...context, app: await bootOnce() }))
      })
    }
    // `help CMD` is about CMD: an unknown one is the same error.
    const helped = chosen === 'help' ? args.slice(args.indexOf('help') + 1).find((arg) => !arg.startsWith('-')) : undefined
    checkChosenCommand(chosen, application, applicationDefinitions)
    if (helped !== undefined) checkChosenCommand(helped, application, applicationDefinitions)
    await program.parseAsync(args, { from: 'user' })
    return exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" are commander's normal exits.
      return error.exitCode === 0 ? 0 : 1
    }
    return reportError(error, output, verbose ? streams.stderr : null)
  }
}

/**
 * The one line an error gets, and its exit code. A UserError (a bad name, option or setting,
 * a service that cannot be reached) is the user's to fix: its message, exit 1. A connection
 * failure that no command put into words is one too: a service is down or misaddressed. Anything
 * else is Herald's own bug: exit 2, its first line without the SQL a database driver put in front
 * of it (a statement can carry bound values), and the stack only under --verbose.
 */
function reportError(error: unknown, output: Output, stackTo: OutputStreams['stderr'] | null): number {
  if (error instanceof UserError) {
    output.error(oneLine(error.message))
    return 1
  }
  const message = errorMessage(error)
  if (isConnectionError(error)) {
    output.error(`A service is unreachable (${firstLine(message)}): check that it is running and its address in .env.`)
    return 1
  }
  output.error(`Error: ${firstLine(withoutSql(message))}`)
  if (stackTo !== null && error instanceof Error && error.stack) stackTo.write(`${error.stack}\n`)
  return 2
}

function firstLine(text: string): string {
  return oneLine(text.trim().split('\n', 1)[0] ?? '') || 'an error without a message'
}

/** knex prefixes a failed statement to the driver's message: `select * from "x" - relation "x" does not exist`. */
const KNEX_STATEMENT = /^(?:select|insert|update|delete|with|create|alter|drop|pragma|truncate)\b.* - (.+)$/is

function withoutSql(message: string): string {
  const statement = KNEX_STATEMENT.exec(message)
  return statement ? `a database statement failed: ${statement[1]}` : message
}

const frameworkNames: ReadonlySet<string> = new Set([...commands.map(({ name }) => name), 'help'])

/** How this run boots: the given application (never shut down here), the test's boot, or the default. */
function bootFor(options: ArtisanOptions): { boot: (cwd: string) => Promise<Application>; owned: boolean } {
  const given = options.app
  if (given !== undefined) return { boot: async () => given, owned: false }
  return { boot: options.boot ?? defaultBoot, owned: true }
}

/** An application command as `list` and `help` see it. */
function listedDefinition(entry: AppCommandEntry): CommandDefinition {
  return {
    name: entry.name,
    description: entry.description,
    boots: true,
    load: () => Promise.reject(new Error(`${entry.name} is an application command: the kernel runs it`)),
  }
}

/**
 * Before commander parses: a clash or unreadable command file stops `list` and `help` (and
 * the clashing name), and an unknown command is an error even with `--help`, which commander
 * would answer with the global help.
 */
function checkChosenCommand(chosen: string | undefined, application: AppCommands, known: readonly CommandDefinition[]): void {
  if (chosen === undefined) return // --version, --help: commander's
  const listing = chosen === 'list' || chosen === 'help'
  const problem = application.problems.find(({ name }) => listing || name === chosen)
  if (problem !== undefined) throw new UserError(problem.message)
  if (chosen === 'help' || known.some(({ name }) => name === chosen)) return
  throw new UserError(`Command "${chosen}" is not defined.${suggestCommands(chosen, [...known.map(({ name }) => name), 'help'])}`)
}

/** Boots on demand (once) for `run`, and shuts down what it booted, whether `run` succeeds or not. */
async function withApplication(
  cwd: string,
  boot: { boot: (cwd: string) => Promise<Application>; owned: boolean },
  run: (bootOnce: () => Promise<Application>) => Promise<number>,
): Promise<number> {
  const state: { booted: Promise<Application> | null } = { booted: null }
  // Called as a plain function, so a stack shows the boot function's own name.
  const start = boot.boot
  const bootOnce = () => (state.booted ??= start(cwd))
  let failed = false
  try {
    return await run(bootOnce)
  } catch (error) {
    failed = true
    throw error
  } finally {
    if (state.booted !== null && boot.owned) {
      try {
        await (await state.booted).shutdown()
      } catch (error) {
        // After a failed command (or boot), what it failed with is the error to report; a
        // shutdown that fails too (closing a pool that never connected) would only hide it.
        if (!failed) throw error
      }
    }
  }
}

async function runCommand(
  definition: CommandDefinition,
  received: unknown[],
  output: Output,
  cwd: string,
  boot: { boot: (cwd: string) => Promise<Application>; owned: boolean },
  listed: readonly CommandDefinition[],
  publicApi: (() => Promise<Record<string, unknown>>) | null,
): Promise<number> {
  // commander passes the declared arguments, then the options object, then the command.
  const argCount = definition.arguments?.length ?? 0
  const args = received.slice(0, argCount).filter((value): value is string => typeof value === 'string')
  const opts = (received[argCount] ?? {}) as Record<string, unknown>
  const { default: handler } = await definition.load()
  return withApplication(cwd, boot, async (bootOnce) => {
    const app = definition.boots ? await bootOnce() : null
    return (await handler({ app, args, options: opts, output, cwd, boot: bootOnce, commands: listed, publicApi })) ?? 0
  })
}
