import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { UserError } from '../foundation/errors.ts'
import { parseSignature, type ParsedSignature } from './signature.ts'

/**
 * The application's own commands (app/commands), found the way listeners are: by looking, with
 * nothing to register. `artisan list` must stay fast, so it never imports them: it reads the
 * commands cache (`artisan optimize`), or else each file's text, taking the string literals of
 * `Command.define('…')` and `static description = '…'`. Only the command that runs is imported.
 */
export interface AppCommandEntry {
  readonly name: string
  readonly description: string
  readonly signature: ParsedSignature
  /** Project-relative, with `/`: `app/commands/send-digest.ts`. */
  readonly file: string
}

/** Something wrong with the application's commands; `name` when it concerns one command. */
export interface AppCommandProblem {
  readonly name: string | null
  readonly message: string
}

export interface AppCommands {
  readonly entries: readonly AppCommandEntry[]
  readonly problems: readonly AppCommandProblem[]
  readonly cached: boolean
}

export const COMMANDS_FOLDER = 'app/commands'

export function commandCachePath(basePath: string): string {
  return join(basePath, 'node_modules', '.cache', 'herald', 'commands.json')
}

const LITERAL = String.raw`(?:'((?:\\.|[^'\\\n])*)'|"((?:\\.|[^"\\\n])*)"|\x60((?:\\.|[^\x60\\$])*)\x60)`
const DEFINE = new RegExp(String.raw`\bCommand\.define\(\s*(?:${LITERAL}\s*[,)]|)`)
const DESCRIPTION = new RegExp(String.raw`\bstatic\s+(?:override\s+)?(?:readonly\s+)?description\s*(?::\s*string\s*)?=\s*${LITERAL}`)

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, char: string) => ({ n: '\n', t: '\t' })[char] ?? char)
}

const literalOf = (match: RegExpExecArray): string | undefined => {
  const raw = match[1] ?? match[2] ?? match[3]
  return raw === undefined ? undefined : unescape(raw)
}

/** Reads one file's metadata from its text; null when it defines no command (a helper module). */
export function readCommandSource(file: string, text: string): AppCommandEntry | null {
  const define = DEFINE.exec(text)
  if (!define) return null
  const signatureText = literalOf(define)
  if (signatureText === undefined) {
    throw new UserError(`${file}: the signature must be a string literal in Command.define('name {argument} {--option}'), so artisan list can read it without loading the file.`)
  }
  const signature = parseSignature(signatureText, file)
  const description = DESCRIPTION.exec(text)
  return { name: signature.name, description: description ? (literalOf(description) ?? '') : '', signature, file }
}

function commandFiles(basePath: string): string[] {
  const folder = join(basePath, COMMANDS_FOLDER)
  if (!existsSync(folder)) return []
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(?:ts|mts|js|mjs)$/.test(entry.name) && !/\.(?:test|spec|d)\.[mc]?[tj]s$/.test(entry.name))
    .map((entry) => `${COMMANDS_FOLDER}/${join(entry.parentPath, entry.name).slice(folder.length + 1).split('\\').join('/')}`)
    .sort()
}

/** Scans app/commands (no cache), reading only text. */
export function scanApplicationCommands(basePath: string): { entries: AppCommandEntry[]; problems: AppCommandProblem[] } {
  const entries: AppCommandEntry[] = []
  const problems: AppCommandProblem[] = []
  for (const file of commandFiles(basePath)) {
    try {
      const entry = readCommandSource(file, readFileSync(join(basePath, file), 'utf8'))
      if (entry !== null) entries.push(entry)
    } catch (error) {
      if (!(error instanceof UserError)) throw error
      problems.push({ name: null, message: error.message })
    }
  }
  return { entries, problems }
}

function readCache(basePath: string): AppCommandEntry[] | null {
  const path = commandCachePath(basePath)
  if (!existsSync(path)) return null
  let cache: { version?: unknown; commands?: AppCommandEntry[] }
  try {
    cache = JSON.parse(readFileSync(path, 'utf8')) as typeof cache
  } catch {
    throw new UserError(`The commands cache ${path} is not valid JSON: run "artisan optimize:clear".`)
  }
  if (cache.version !== 1 || !Array.isArray(cache.commands)) throw new UserError(`The commands cache ${path} has an unknown format: run "artisan optimize" again.`)
  return cache.commands
}

export function writeCommandCache(basePath: string, entries: readonly AppCommandEntry[]): string {
  const path = commandCachePath(basePath)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify({ version: 1, commands: entries }, null, 2)}\n`)
  return path
}

/** Removes the commands cache; true when there was one. */
export function clearCommandCache(basePath: string): boolean {
  const path = commandCachePath(basePath)
  if (!existsSync(path)) return false
  rmSync(path)
  return true
}

/** The framework command's module, for messages: `event:list` → `src/console/commands/event-list.ts`. */
export function frameworkCommandFile(name: string): string {
  return `src/console/commands/${name.replaceAll(':', '-')}.ts`
}

/**
 * The application's commands (cached, else scanned) minus those that clash: with a framework
 * command, or with each other. Each clash is a problem naming both files; `list` and running
 * that name report it, other commands still run (so `make:command` can fix things).
 */
export function loadApplicationCommands(basePath: string, frameworkNames: ReadonlySet<string>): AppCommands {
  let cachedEntries: AppCommandEntry[] | null
  try {
    cachedEntries = readCache(basePath)
  } catch (error) {
    // A broken cache stops list and help, not optimize:clear, which removes it.
    if (!(error instanceof UserError)) throw error
    return { entries: [], problems: [{ name: null, message: error.message }], cached: false }
  }
  const { entries: found, problems } = cachedEntries === null ? scanApplicationCommands(basePath) : { entries: cachedEntries, problems: [] }
  const entries: AppCommandEntry[] = []
  const byName = new Map<string, AppCommandEntry>()
  for (const entry of found) {
    if (frameworkNames.has(entry.name)) {
      problems.push({
        name: entry.name,
        message: `The command "${entry.name}" of ${entry.file} clashes with Herald's own "${entry.name}" (${frameworkCommandFile(entry.name)}): rename it in its signature.`,
      })
      continue
    }
    const first = byName.get(entry.name)
    if (first !== undefined) {
      problems.push({ name: entry.name, message: `The command "${entry.name}" is defined twice, in ${first.file} and ${entry.file}: rename one of them.` })
      continue
    }
    byName.set(entry.name, entry)
    entries.push(entry)
  }
  const clashing = new Set(problems.flatMap(({ name }) => (name === null ? [] : [name])))
  return { entries: entries.filter(({ name }) => !clashing.has(name)), problems, cached: cachedEntries !== null }
}
