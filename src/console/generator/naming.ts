import { UserError } from '../../foundation/errors.ts'
import { quoteInput } from '../quote-input.ts'

/**
 * A generator's name argument, normalised once so every generator agrees on it:
 * `OrderShipped`, `order-shipped` and `order_shipped` are all class `OrderShipped` in
 * `order-shipped.ts`; `Admin/UserBanned` is class `UserBanned` in `admin/user-banned.ts`.
 */
export interface GeneratorName {
  /** What the user typed, trimmed. */
  readonly input: string
  /** The class: `UserBanned`. */
  readonly className: string
  /** The class in camelCase, for variables: `userBanned`. */
  readonly camelName: string
  /** The file's base name, without extension: `user-banned`. */
  readonly fileName: string
  /** The nested folders, kebab-case, `/`-separated: `admin` (empty at the top level). */
  readonly folder: string
  /** Folder and file name: `admin/user-banned`; stubs append their own extension. */
  readonly path: string
  /** The path with dots, for channel and string event names: `admin.user-banned`. */
  readonly dotted: string
}

export interface NameOptions {
  /** Drop a trailing `Test` word (`OrderFlowTest` → `order-flow`), for test names. */
  readonly dropTestSuffix?: boolean
}

/**
 * Words that cannot name a generated class. Compared with the class name lowercased, so
 * `Class` and `Delete` are refused too: their camelCase form (`class`, `delete`) is what a
 * stub uses for a variable, and a class named after a keyword is almost always a slip.
 * The TypeScript names are the ones `class X {}` refuses (TS2414), which also keeps
 * generated classes from shadowing the `String`, `Number`, `Object`... globals.
 */
export const reservedWords: ReadonlySet<string> = new Set([
  // ECMAScript reserved words
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import',
  'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try',
  'typeof', 'var', 'void', 'while', 'with',
  // reserved in strict mode and modules (all generated code is a module)
  'implements', 'interface', 'let', 'package', 'private', 'protected', 'public', 'static', 'yield',
  'await', 'arguments', 'eval',
  // TypeScript's predefined type names
  'any', 'unknown', 'never', 'number', 'bigint', 'boolean', 'string', 'symbol', 'object', 'undefined',
])

/**
 * Names the default stubs import from 'herald' (or that tests import): a generated class with
 * one of them would clash with its own import, e.g. `class Listener extends Listener.for(...)`.
 */
export const heraldNames: ReadonlySet<string> = new Set([
  'Event', 'Dispatchable', 'Listener', 'Subscriber', 'ShouldQueue', 'ShouldBroadcast', 'Channel',
  'QueueOptions', 'PayloadOf', 'Dispatcher', 'Application',
])

const SEGMENT = /^[A-Za-z0-9_-]+$/

/**
 * The longest name a generator takes, folders included. A file name may have 255 bytes, and
 * the stubs add suffixes (`.test.ts`); the writer checks each real path too, so this bound is
 * for the input itself: nobody names a class in more.
 */
export const MAX_NAME_LENGTH = 200

/** `orderShipped`, `HTTPRequest_sent`, `order-shipped` → their words, case kept. */
function words(segment: string): string[] {
  return segment
    .split(/[-_]+/)
    .flatMap((part) =>
      part
        .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
        .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
        .split(' '),
    )
    .filter((word) => word.length > 0)
}

const upperFirst = (word: string): string => word[0]!.toUpperCase() + word.slice(1)

function refuse(input: string, reason: string): never {
  throw new UserError(`Invalid name ${quoteInput(input)}: ${reason}`)
}

/**
 * Normalises a generator's name argument, or throws a one-line UserError saying what is
 * wrong and how to fix it. Names are relative to the generator's own folder, so absolute
 * paths, backslashes and `.`/`..` segments are refused before anything reaches the disk.
 *
 * ```ts
 * parseName('admin/user_banned') // { className: 'UserBanned', path: 'admin/user-banned', ... }
 * ```
 */
export function parseName(input: string, options: NameOptions = {}): GeneratorName {
  const raw = input.trim()
  if (raw === '') throw new UserError('Invalid name "": the name is empty; give one like OrderShipped.')
  if (raw.length > MAX_NAME_LENGTH) refuse(raw, `a name is at most ${MAX_NAME_LENGTH} characters; choose a shorter one.`)
  if (raw.includes('\\')) refuse(raw, 'it contains a backslash; nest with "/", e.g. Admin/UserBanned.')
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.startsWith('~')) {
    refuse(raw, 'it is an absolute path; give a name relative to the generator\'s folder, e.g. Admin/UserBanned.')
  }
  const segments = raw.split('/')
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    refuse(raw, '"." and ".." segments are not allowed; generators only write inside app/ and tests/.')
  }
  if (segments.some((segment) => segment === '')) refuse(raw, 'it has an empty path segment; write Admin/UserBanned.')

  const parts = segments.map((segment) => {
    const found = words(segment)
    if (!SEGMENT.test(segment) || found.length === 0 || !/^[A-Za-z]/.test(found[0]!)) {
      refuse(raw, `${quoteInput(segment)} is not an identifier; use letters and digits, starting with a letter (e.g. OrderShipped).`)
    }
    return found
  })
  let last = parts[parts.length - 1]!
  if (options.dropTestSuffix && last.length > 1 && last[last.length - 1]!.toLowerCase() === 'test') last = last.slice(0, -1)

  const className = last.map(upperFirst).join('')
  const camelName = last[0]!.toLowerCase() + last.slice(1).map(upperFirst).join('')
  if (reservedWords.has(className.toLowerCase())) {
    refuse(raw, `"${className.toLowerCase()}" is a reserved word in TypeScript; choose a name that says what happened, e.g. OrderShipped.`)
  }
  if (heraldNames.has(className)) {
    refuse(raw, `"${className}" is a name Herald's generated code imports; choose another, e.g. ${className}Recorded.`)
  }
  const kebab = (segment: string[]) => segment.map((word) => word.toLowerCase()).join('-')
  const fileName = kebab(last)
  const folders = parts.slice(0, -1).map(kebab)
  const path = [...folders, fileName].join('/')
  return { input: raw, className, camelName, fileName, folder: folders.join('/'), path, dotted: path.replaceAll('/', '.') }
}
