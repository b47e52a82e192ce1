import { existsSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'dotenv'
import { generateAppKey } from '../../foundation/app-key.ts'
import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import { flag } from '../generator/command-options.ts'

/** Every `APP_KEY=` line, as dotenv reads them (`export ` allowed). */
const KEY_LINE = /^[ \t]*(?:export[ \t]+)?APP_KEY[ \t]*=.*$/gm

/**
 * `artisan key:generate [--show] [--force]`, as in Laravel: a new APP_KEY (`base64:` and 32
 * random bytes) written into `.env`, which is made from `.env.example` when missing. A key
 * already there is kept unless --force: replacing it voids every CSRF token handed out and
 * every process still signing with the old one. `--show` prints a key and writes nothing.
 */
const keyGenerate: CommandHandler = ({ options, output, cwd }) => {
  const key = generateAppKey()
  if (flag(options, 'show')) {
    output.line(key)
    return 0
  }
  const envFile = join(cwd, '.env')
  const exampleFile = join(cwd, '.env.example')
  const exists = existsSync(envFile)
  const text = exists ? readFileSync(envFile, 'utf8') : existsSync(exampleFile) ? readFileSync(exampleFile, 'utf8') : ''
  if (exists && (parse(text).APP_KEY ?? '') !== '' && !flag(options, 'force')) {
    throw new UserError('APP_KEY is already set in .env: use --force to replace it (CSRF tokens and broadcasts signed with the old key stop working).')
  }
  const line = `APP_KEY=${key}`
  const updated = text.match(KEY_LINE) !== null ? text.replace(KEY_LINE, () => line) : `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`
  writeAtomically(envFile, updated, exists)
  if (!exists) output.line(`${output.paint('CREATE', 'green')} .env${existsSync(exampleFile) ? ' (from .env.example)' : ''}`)
  output.line(`${output.paint('INFO', 'cyan')} Application key set in .env.`)
  // The process environment wins over .env: say so rather than let the new key be ignored.
  if (process.env.APP_KEY) output.line(`${output.paint('WARN', 'yellow')} APP_KEY is also set in this shell's environment, which overrides .env: unset it.`)
  return 0
}

/**
 * The new text replaces the old in one rename, so an interrupted write leaves the old .env
 * whole. A linked .env is updated where it points, as an editor would, keeping its mode.
 */
function writeAtomically(file: string, text: string, exists: boolean): void {
  const target = exists ? realpathSync(file) : file
  const mode = exists ? statSync(target).mode & 0o777 : 0o600
  const temporary = `${target}.${process.pid}.tmp`
  writeFileSync(temporary, text, { mode, flag: 'wx' })
  renameSync(temporary, target)
}

export default keyGenerate
