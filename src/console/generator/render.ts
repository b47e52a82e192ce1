import { posix } from 'node:path'
import { UserError } from '../../foundation/errors.ts'
import { loadStub, parseFrontMatter, type Stub, type StubName } from './stubs.ts'
import { resolveTarget } from './target-path.ts'
import { errorMessage } from '../../foundation/error-message.ts'

/** A rendered stub: what to write where. Nothing is on disk yet. */
export interface RenderedFile {
  /** Project-relative, with `/`: `app/events/order-shipped.ts`. */
  readonly to: string
  readonly absolute: string
  readonly content: string
  readonly stub: string
}

/** Values a stub sees; each generator documents its own in the README. */
export type StubContext = Readonly<Record<string, unknown>>

/** Generators write only here, whatever a stub says. */
export const generatedFolders = ['app', 'tests'] as const

type Handlebars = typeof import('handlebars')
let engine: Promise<Handlebars> | null = null

/** Handlebars is loaded on first render, so commands that render nothing never pay for it. */
function handlebars(): Promise<Handlebars> {
  engine ??= import('handlebars').then(({ default: hb }) => hb.create())
  return engine
}

/** `app/events/order-shipped.ts` as seen from `app/listeners/x.ts`: `../events/order-shipped.ts`. */
export function importSpecifier(fromFile: string, toFile: string): string {
  const path = posix.relative(posix.dirname(fromFile), toFile)
  return path.startsWith('.') ? path : `./${path}`
}

/**
 * Handlebars counts lines from the start of the part it compiled; a user editing a stub wants
 * the line in the file, and the variables they could have meant.
 */
function describeError(error: unknown, firstLine: number, context: StubContext): string {
  const message = errorMessage(error)
  const missing = /^"([^"]+)" not defined in .* - (\d+):(\d+)$/.exec(message)
  if (missing) {
    const known = Object.keys(context).sort().join(', ')
    return `:${firstLine + Number(missing[2]) - 1}: "${missing[1]}" is not a variable of this stub (it has ${known}).`
  }
  const parse = /^Parse error on line (\d+):\n(.*)/.exec(message)
  if (parse) return `:${firstLine + Number(parse[1]) - 1}: handlebars cannot parse "${parse[2]!.trim()}".`
  return `: ${message.replace(/\s*\n\s*/g, ' ')}`
}

async function run(
  stub: Stub,
  part: 'frontMatter' | 'body',
  context: StubContext,
  helpers: Record<string, (...args: unknown[]) => unknown>,
): Promise<string> {
  const hb = await handlebars()
  // The front-matter starts on the stub's line 2, after "---"; the body after the closing "---".
  const firstLine = part === 'frontMatter' ? 2 : stub.frontMatter.split('\n').length + 3
  try {
    // strict: a misspelt variable in an edited stub is an error, not an empty string.
    // noEscape: this is TypeScript, not HTML.
    const template = hb.compile(stub[part], { strict: true, noEscape: true })
    return template(context, { helpers })
  } catch (error) {
    const message = `${stub.shownAs}${describeError(error, firstLine, context)}`
    if (stub.published) throw new UserError(message)
    throw new Error(message, { cause: error })
  }
}

/**
 * Renders a stub for the project at `root`: first its front-matter, whose `to:` names the
 * output (checked to stay inside app/ or tests/), then its body, which also gets `to`,
 * `root` (the path from the output's folder back to the project, `../../`) and the
 * `importPath` helper (`{{ importPath event.file }}` → `../events/order-shipped.ts`), so an
 * edited `to:` keeps the imports right.
 */
export async function renderStub(root: string, name: StubName, context: StubContext): Promise<RenderedFile> {
  const stub = loadStub(root, name)
  const { to } = parseFrontMatter(await run(stub, 'frontMatter', context, {}), stub.shownAs)
  const target = resolveTarget(root, to, generatedFolders, stub.shownAs)
  const backToRoot = posix.relative(posix.dirname(target.relative), '.')
  const helpers = {
    importPath: (file: unknown) => {
      if (typeof file !== 'string') throw new Error('importPath needs a project-relative file path, e.g. event.file')
      return importSpecifier(target.relative, file)
    },
  }
  const body = await run(stub, 'body', { ...context, to: target.relative, root: `${backToRoot}/` }, helpers)
  return { to: target.relative, absolute: target.absolute, content: `${body.trimEnd()}\n`, stub: stub.shownAs }
}
