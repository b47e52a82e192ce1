import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { CommandHandler } from '../command.ts'
import { flag } from '../generator/command-options.ts'
import { defaultStubNames, defaultStubText } from '../generator/stubs.ts'
import { resolveTarget } from '../generator/target-path.ts'

/**
 * `artisan stub:publish [--force]`: copies the framework's default stubs into stubs/, where
 * the generators look first, so an application can change its conventions. Missing stubs are
 * restored and identical ones left alone; an edited stub is the application's own work, so it
 * is overwritten only with --force.
 */
const stubPublish: CommandHandler = ({ options, output, cwd }) => {
  const force = flag(options, 'force')
  for (const name of defaultStubNames) {
    const target = resolveTarget(cwd, `stubs/${name}.stub`, ['stubs'], 'stub:publish')
    const text = defaultStubText(name)
    const exists = existsSync(target.absolute)
    if (exists && readFileSync(target.absolute, 'utf8') === text) {
      output.line(`${output.paint('SKIP', 'dim')} ${target.relative} (identical to the default)`)
      continue
    }
    if (exists && !force) {
      output.line(`${output.paint('SKIP', 'yellow')} ${target.relative} (edited; use --force to overwrite it)`)
      continue
    }
    mkdirSync(dirname(target.absolute), { recursive: true })
    writeFileSync(target.absolute, text)
    output.line(`${output.paint(exists ? 'OVERWRITE' : 'CREATE', exists ? 'yellow' : 'green')} ${target.relative}`)
  }
  return 0
}

export default stubPublish
