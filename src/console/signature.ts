import { UserError } from '../foundation/errors.ts'

/**
 * An application command's signature, Laravel style, parsed at run time (the same grammar
 * {@link ArgumentsOf} and {@link OptionsOf} read at compile time):
 *
 * ```
 * digest:send {user : The user id} {period?} {emails*} {--dry-run : Only print} {--limit=10} {--queue=} {--tag=*}
 * ```
 *
 * - `{user}` a required argument, `{user?}` optional, `{user=7}` with a default, `{users*}`
 *   a list (one or more; `{users?*}` zero or more).
 * - `{--dry-run}` a flag (boolean), `{--limit=10}` a value with a default, `{--queue=}` a value
 *   without one, `{--tag=*}` a list of values (`--tag=a --tag=b`).
 * - ` : text` after a token describes it in `help`. Defaults hold no `:`, `{` or `}`.
 */
export interface SignatureArgument {
  readonly name: string
  readonly description: string
  readonly required: boolean
  readonly variadic: boolean
  readonly default?: string
}

export interface SignatureOption {
  readonly name: string
  readonly description: string
  /** `flag`: boolean; `value`: a string (`default` when given); `list`: strings. */
  readonly kind: 'flag' | 'value' | 'list'
  readonly default?: string
}

export interface ParsedSignature {
  readonly name: string
  readonly arguments: readonly SignatureArgument[]
  readonly options: readonly SignatureOption[]
}

/** A command name: `digest:send`, `report`, `billing:invoices:prune`. */
export const COMMAND_NAME = /^[a-z][a-z0-9-]*(?::[a-z][a-z0-9-]*)*$/
const IDENTIFIER = /^[a-z][a-z0-9_-]*$/i

/** The longest signature accepted: a bound on what `list` parses out of a file. */
export const MAX_SIGNATURE_LENGTH = 2000

/** Parses a signature, or throws a one-line UserError that starts with `where` (the file). */
export function parseSignature(signature: string, where: string): ParsedSignature {
  const fail = (reason: string): never => {
    throw new UserError(`${where}: ${reason}`)
  }
  if (signature.length > MAX_SIGNATURE_LENGTH) fail(`the signature is longer than ${MAX_SIGNATURE_LENGTH} characters.`)
  const head = /^\s*(\S+)/.exec(signature)
  const name = head?.[1] ?? ''
  if (!COMMAND_NAME.test(name)) {
    fail(`the signature must start with the command's name, e.g. 'digest:send' (lowercase words, ':' between namespaces), got "${name.slice(0, 60)}".`)
  }
  const rest = signature.slice(head![0].length)
  const args: SignatureArgument[] = []
  const options: SignatureOption[] = []
  const seen = new Set<string>()
  const tokenPattern = /\{([^{}]*)\}/g
  let last = 0
  for (const match of rest.matchAll(tokenPattern)) {
    if (rest.slice(last, match.index).trim() !== '') fail(`unexpected text "${rest.slice(last, match.index).trim().slice(0, 40)}" in the signature: arguments and options go in {braces}.`)
    last = match.index + match[0].length
    const separator = match[1]!.indexOf(':')
    const token = (separator === -1 ? match[1]! : match[1]!.slice(0, separator)).trim()
    const description = separator === -1 ? '' : match[1]!.slice(separator + 1).trim()
    if (token.startsWith('--')) {
      const option = /^--([^=\s]+)(?:=(.*))?$/.exec(token)
      if (!option || !IDENTIFIER.test(option[1]!)) fail(`"{${token}}" is not an option: write {--name}, {--name=default}, {--name=} or {--name=*}.`)
      const [, optionName, value] = option!
      if (seen.has(`--${optionName}`)) fail(`the option --${optionName} is declared twice.`)
      seen.add(`--${optionName}`)
      if (value === undefined) options.push({ name: optionName!, description, kind: 'flag' })
      else if (value === '*') options.push({ name: optionName!, description, kind: 'list' })
      else if (value === '') options.push({ name: optionName!, description, kind: 'value' })
      else options.push({ name: optionName!, description, kind: 'value', default: value })
      continue
    }
    const argument = /^([^?*=\s]+)(\?)?(\*)?(?:=(.*))?$/.exec(token)
    if (!argument || !IDENTIFIER.test(argument[1]!)) fail(`"{${token}}" is not an argument: write {name}, {name?}, {name=default} or {name*}.`)
    const [, argumentName, optional, variadic, fallback] = argument!
    if (seen.has(argumentName!)) fail(`the argument ${argumentName} is declared twice.`)
    seen.add(argumentName!)
    const previous = args[args.length - 1]
    if (previous?.variadic) fail(`the list argument ${previous.name} must be the last argument.`)
    const required = optional === undefined && fallback === undefined
    if (required && previous && !previous.required) fail(`the required argument ${argumentName} comes after the optional ${previous.name}.`)
    args.push({ name: argumentName!, description, required, variadic: variadic !== undefined, ...(fallback === undefined ? {} : { default: fallback }) })
  }
  if (rest.slice(last).trim() !== '') fail(`unexpected text "${rest.slice(last).trim().slice(0, 40)}" in the signature: arguments and options go in {braces}.`)
  return { name, arguments: args, options }
}
