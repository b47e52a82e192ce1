import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { frameworkRoot } from '../../foundation/framework-root.ts'
import { UserError } from '../../foundation/errors.ts'

/** The stubs the framework ships, by name (`stubs/<name>.stub`). */
export const defaultStubNames = [
  'event',
  'event.broadcast',
  'listener',
  'listener.typed',
  'listener.queued',
  'subscriber',
  'test',
  'test.unit',
  'test.event',
  'test.listener',
  'test.subscriber',
  'job',
  'job.sync',
  'test.job',
  'command',
  'test.command',
] as const

export type StubName = (typeof defaultStubNames)[number]

/** A stub, split into its front-matter and body, not yet rendered. */
export interface Stub {
  readonly name: StubName
  /** Where it was read from, for messages: `stubs/event.stub`, or the framework's path. */
  readonly shownAs: string
  /** True when it is the application's copy in stubs/, which the user may have edited. */
  readonly published: boolean
  readonly frontMatter: string
  readonly body: string
}

/** The framework's default stubs. They ship as files, next to the source, in src/console/stubs. */
export function frameworkStubsDir(): string {
  return join(frameworkRoot(), 'src', 'console', 'stubs')
}

/** The framework's default text of a stub. */
export function defaultStubText(name: StubName): string {
  return readFileSync(join(frameworkStubsDir(), `${name}.stub`), 'utf8')
}

/**
 * Splits a stub into its front-matter and body. The front-matter sits between two `---`
 * lines at the very top and holds `key: value` lines (a handlebars template itself).
 */
export function splitStub(text: string, shownAs: string): { frontMatter: string; body: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text)
  if (!match) {
    throw new UserError(`${shownAs} has no front-matter: start it with "---", a "to: <output path>" line and "---".`)
  }
  return { frontMatter: match[1]!, body: text.slice(match[0].length) }
}

/**
 * Loads a stub: the application's copy in stubs/ when there is one (published with
 * `stub:publish`, perhaps edited), else the framework's default.
 */
export function loadStub(root: string, name: StubName): Stub {
  const published = join(root, 'stubs', `${name}.stub`)
  const own = existsSync(published)
  const shownAs = own ? `stubs/${name}.stub` : `${name}.stub (Herald's default)`
  const text = own ? readFileSync(published, 'utf8') : defaultStubText(name)
  return { name, shownAs, published: own, ...splitStub(text, shownAs) }
}

/** Reads the front-matter's `key: value` lines once rendered; `to` is required. */
export function parseFrontMatter(rendered: string, shownAs: string): { to: string } {
  const values = new Map<string, string>()
  for (const line of rendered.split(/\r?\n/)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    const match = /^\s*([A-Za-z][\w-]*)\s*:\s*(.*?)\s*$/.exec(line)
    if (!match) throw new UserError(`${shownAs}: front-matter line "${line.trim()}" is not "key: value".`)
    const [, key, value] = match
    if (key !== 'to') throw new UserError(`${shownAs}: unknown front-matter key "${key}"; the only key is "to".`)
    values.set(key, value!.replace(/^(['"])(.*)\1$/, '$2'))
  }
  const to = values.get('to')
  if (to === undefined || to === '') throw new UserError(`${shownAs}: the front-matter needs a "to: <output path>" line.`)
  return { to }
}
