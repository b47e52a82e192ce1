import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Option, type Command as CommanderCommand } from 'commander'
import type { Application } from '../foundation/application.ts'
import { UserError } from '../foundation/errors.ts'
import { bindCommand, type Command, type CommandClass } from './application-command.ts'
import type { AppCommandEntry } from './app-commands.ts'
import type { Output } from './output.ts'
import type { PromptAnswers } from './prompts.ts'
import { parseSignature } from './signature.ts'

/** A command's input as `handle()` reads it: arguments and options by their signature names. */
export interface CommandInput {
  readonly arguments: Readonly<Record<string, unknown>>
  readonly options: Readonly<Record<string, unknown>>
}

/**
 * Declares an application command on commander from its signature, so `help`, parsing errors and
 * suggestions are commander's, as for the framework's commands. Returns a function that reads
 * the parsed input back by signature names (commander camel-cases option names).
 */
export function declareApplicationCommand(command: CommanderCommand, entry: AppCommandEntry): () => CommandInput {
  for (const argument of entry.signature.arguments) {
    const name = `${argument.name}${argument.variadic ? '...' : ''}`
    const flags = argument.required ? `<${name}>` : `[${name}]`
    if (argument.default === undefined) command.argument(flags, argument.description)
    else command.argument(flags, argument.description, argument.default)
  }
  const attributes: Array<[string, string]> = []
  for (const declared of entry.signature.options) {
    const flags = declared.kind === 'flag' ? `--${declared.name}` : `--${declared.name} <value${declared.kind === 'list' ? '...' : ''}>`
    const option = new Option(flags, declared.description)
    if (declared.default !== undefined) option.default(declared.default)
    command.addOption(option)
    attributes.push([declared.name, option.attributeName()])
  }
  return () => {
    const values = command.processedArgs as unknown[]
    const opts = command.opts<Record<string, unknown>>()
    const args: Record<string, unknown> = {}
    entry.signature.arguments.forEach((argument, i) => {
      args[argument.name] = values[i] ?? (argument.variadic ? [] : undefined)
    })
    const options: Record<string, unknown> = {}
    for (const declared of entry.signature.options) {
      const value = opts[attributes.find(([name]) => name === declared.name)![1]]
      options[declared.name] = declared.kind === 'flag' ? value === true : declared.kind === 'list' ? (value ?? []) : value
    }
    return { arguments: args, options }
  }
}

function isCommandClass(value: unknown): value is CommandClass {
  return (
    typeof value === 'function' &&
    typeof (value as { signature?: unknown }).signature === 'string' &&
    typeof (value.prototype as { handle?: unknown } | undefined)?.handle === 'function'
  )
}

/** Imports the command's module (only now), checks it is the command `list` saw, and runs `handle()`. */
export async function runApplicationCommand(
  entry: AppCommandEntry,
  input: CommandInput,
  context: { readonly cwd: string; readonly app: Application; readonly output: Output; readonly answers?: PromptAnswers },
): Promise<number> {
  const path = join(context.cwd, entry.file)
  if (!existsSync(path)) throw new UserError(`${entry.file} is in the commands cache but gone: run "artisan optimize" again, or "artisan optimize:clear".`)
  const module = (await import(pathToFileURL(path).href)) as { default?: unknown }
  const Class = module.default
  if (!isCommandClass(Class)) {
    throw new UserError(`${entry.file} must export a command class by default: export default class X extends Command.define('${entry.name} …').`)
  }
  const { name } = parseSignature(Class.signature, entry.file)
  if (name !== entry.name) {
    throw new UserError(`${entry.file} defines "${name}" now, not "${entry.name}": run "artisan optimize" again, or "artisan optimize:clear".`)
  }
  const instance = new (Class as unknown as new () => Command)()
  bindCommand(instance, { app: context.app, ...input, output: context.output, ...(context.answers ? { answers: context.answers } : {}) })
  return (await instance.handle()) ?? 0
}
