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

export interface ArtisanOptions {
  cwd?: string
  streams?: OutputStreams
  /** Boots the application for commands that need it (tests pass their own). */
  boot?: (cwd: string) => Promise<Application>
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

  for (const definition of commands) {
    const command = program.command(definition.name).description(definition.description)
    for (const argument of definition.arguments ?? []) {
      command.argument(argument.required ? `<${argument.name}>` : `[${argument.name}]`, argument.description)
    }
    for (const option of definition.options ?? []) command.option(option.flags, option.description)
    command.action(async (...received: unknown[]) => {
      exitCode = await runCommand(definition, received, output, cwd, options.boot ?? defaultBoot)
    })
  }

  // Like artisan, no command at all lists the commands.
  const words = argv.filter((arg) => arg !== '--no-ansi' && arg !== '--verbose' && arg !== '-v')
  const args = words.length === 0 ? [...argv, 'list'] : [...argv]
  try {
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

async function runCommand(
  definition: CommandDefinition,
  received: unknown[],
  output: Output,
  cwd: string,
  boot: (cwd: string) => Promise<Application>,
): Promise<number> {
  // commander passes the declared arguments, then the options object, then the command.
  const argCount = definition.arguments?.length ?? 0
  const args = received.slice(0, argCount).filter((value): value is string => typeof value === 'string')
  const opts = (received[argCount] ?? {}) as Record<string, unknown>
  const { default: handler } = await definition.load()
  const state: { booted: Promise<Application> | null } = { booted: null }
  const bootOnce = () => (state.booted ??= boot(cwd))
  let failed = false
  try {
    const app = definition.boots ? await bootOnce() : null
    return (await handler({ app, args, options: opts, output, cwd, boot: bootOnce, commands })) ?? 0
  } catch (error) {
    failed = true
    throw error
  } finally {
    if (state.booted !== null) {
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
