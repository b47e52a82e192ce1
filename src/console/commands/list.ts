import { frameworkVersion } from '../../foundation/framework-root.ts'
import type { CommandDefinition, CommandHandler } from '../command.ts'

const builtins: ReadonlyArray<Pick<CommandDefinition, 'name' | 'description'>> = [
  { name: 'help', description: 'Display help for a command' },
]

const globalOptions: ReadonlyArray<[string, string]> = [
  ['-h, --help', 'Display help for the given command'],
  ['-V, --version', 'Display the Herald version'],
  ['--no-ansi', 'Disable ANSI colour (also off when output is not a terminal)'],
  ['-v, --verbose', 'Show the stack trace of an internal error'],
]

/**
 * `artisan` and `artisan list`: the commands grouped by namespace, Laravel style. The kernel
 * hands over the manifest's commands, so this module does not import the manifest that loads it.
 */
const list: CommandHandler = ({ output, commands }) => {
  // Commands without a namespace first, then each namespace in order, as artisan shows them.
  const key = (name: string) => (name.includes(':') ? `1${name}` : `0${name}`)
  const all = [...commands, ...builtins].sort((a, b) => key(a.name).localeCompare(key(b.name)))
  const width = Math.max(...all.map((command) => command.name.length), ...globalOptions.map(([flags]) => flags.length)) + 2
  output.line(`Herald artisan ${output.paint(frameworkVersion(), 'green')}`)
  output.line()
  output.line(output.paint('Usage:', 'yellow'))
  output.line('  artisan <command> [arguments] [options]')
  output.line()
  output.line(output.paint('Options:', 'yellow'))
  for (const [flags, description] of globalOptions) output.line(`  ${output.paint(flags.padEnd(width), 'green')}${description}`)
  output.line()
  output.line(output.paint('Available commands:', 'yellow'))
  let group: string | null = null
  for (const command of all) {
    const namespace = command.name.includes(':') ? command.name.slice(0, command.name.indexOf(':')) : ''
    if (namespace !== group) {
      if (namespace !== '') output.line(output.paint(` ${namespace}`, 'yellow'))
      group = namespace
    }
    output.line(`  ${output.paint(command.name.padEnd(width), 'green')}${command.description}`)
  }
  return 0
}

export default list
