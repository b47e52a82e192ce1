import { UserError } from '../../foundation/errors.ts'
import { clearCommandCache, frameworkCommandFile, scanApplicationCommands } from '../app-commands.ts'
import type { CommandHandler } from '../command.ts'
import { flag, text } from '../generator/command-options.ts'
import { nameContext } from '../generator/contexts.ts'
import { parseName } from '../generator/naming.ts'
import { renderStub, type RenderedFile } from '../generator/render.ts'
import { writeFiles } from '../generator/write-files.ts'
import { quoteInput } from '../quote-input.ts'
import { COMMAND_NAME } from '../signature.ts'

/** Names the command stubs import from 'herald': a class called one of them would clash with its import. */
const commandStubImports: ReadonlySet<string> = new Set(['Command', 'RunCommand'])

/**
 * `artisan make:command SendDigest [--command=digest:send] [--test] [--force]`: a command in
 * app/commands (nested names go to subfolders), discovered by `list` with nothing to register.
 * Without `--command` it runs as `app:<file name>` (`app:send-digest`), as in Laravel. A name
 * that is the framework's or another application command's is refused, nothing written.
 */
const makeCommand: CommandHandler = async ({ args, options, output, cwd, commands }) => {
  const name = parseName(args[0] ?? '')
  if (commandStubImports.has(name.className)) {
    throw new UserError(`Invalid name ${quoteInput(name.input)}: "${name.className}" is a name the generated command imports from 'herald'; choose another, e.g. Run${name.className}.`)
  }
  const command = text(options, 'command') ?? `app:${name.path.replaceAll('/', ':')}`
  if (!COMMAND_NAME.test(command)) {
    throw new UserError(`Invalid command name ${quoteInput(command)}: use lowercase words with ":" between namespaces, e.g. digest:send.`)
  }
  // The kernel hands over every listed command: the framework's, and the application's it found.
  const existing = scanApplicationCommands(cwd).entries.find((entry) => entry.name === command)
  if (command === 'help' || (existing === undefined && commands.some((definition) => definition.name === command))) {
    throw new UserError(`The command name "${command}" is Herald's own (${command === 'help' ? 'the built-in help' : frameworkCommandFile(command)}): choose another, e.g. app:${command.replaceAll(':', '-')}.`)
  }
  if (existing !== undefined && !flag(options, 'force')) {
    throw new UserError(`The command "${command}" exists already, in ${existing.file}: nothing was written; choose another --command.`)
  }
  const context = { ...nameContext(name), command }
  const file = await renderStub(cwd, 'command', context)
  const files: RenderedFile[] = [file]
  if (flag(options, 'test')) files.push(await renderStub(cwd, 'test.command', { ...context, commandFile: file.to }))
  writeFiles(cwd, files, output, flag(options, 'force'))
  if (clearCommandCache(cwd)) output.line('Commands cache cleared: list scans app/commands again (run "artisan optimize" to cache it anew).')
  return 0
}

export default makeCommand
