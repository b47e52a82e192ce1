import { readFileSync } from 'node:fs'
import type { CommandHandler } from '../command.ts'
import { flag } from '../generator/command-options.ts'
import { inspectTarget } from '../generator/path-guard.ts'
import { defaultStubNames, defaultStubText } from '../generator/stubs.ts'
import { resolveTarget } from '../generator/target-path.ts'
import { writeAllOrNone, type FileToWrite } from '../generator/write-files.ts'

/**
 * `artisan stub:publish [--force]`: copies the framework's default stubs into stubs/, where
 * the generators look first, so an application can change its conventions. Missing stubs are
 * restored and identical ones left alone; an edited stub is the application's own work, so it
 * is overwritten only with --force. Like the generators it writes all or none, and never
 * through a symbolic link: a link anywhere in stubs/ is refused before anything is written.
 */
const stubPublish: CommandHandler = ({ options, output, cwd }) => {
  const force = flag(options, 'force')
  const files: FileToWrite[] = []
  // Printed once every stub passed the checks, so a refusal is the only thing said.
  const skipped: string[] = []
  for (const name of defaultStubNames) {
    const target = resolveTarget(cwd, `stubs/${name}.stub`, ['stubs'], 'stub:publish')
    const text = defaultStubText(name)
    // lstat from the project root down: a linked stubs/ or stub file is refused here, unread.
    const { exists, absolute } = inspectTarget(cwd, target.relative)
    if (exists && readFileSync(absolute, 'utf8') === text) {
      skipped.push(`${output.paint('SKIP', 'dim')} ${target.relative} (identical to the default)`)
      continue
    }
    if (exists && !force) {
      skipped.push(`${output.paint('SKIP', 'yellow')} ${target.relative} (edited; use --force to overwrite it)`)
      continue
    }
    files.push({ to: target.relative, content: text })
  }
  const written = writeAllOrNone(cwd, files, force)
  for (const line of skipped) output.line(line)
  for (const { to, overwritten } of written) {
    output.line(`${output.paint(overwritten ? 'OVERWRITE' : 'CREATE', overwritten ? 'yellow' : 'green')} ${to}`)
  }
  return 0
}

export default stubPublish
