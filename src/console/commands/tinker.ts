import type { EventEmitter } from 'node:events'
import { relative, sep } from 'node:path'
import repl, { type REPLEval, type REPLServer } from 'node:repl'
import { PassThrough, Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { inspect } from 'node:util'
import type { Application } from '../../foundation/application.ts'
import { errorMessage } from '../../foundation/error-message.ts'
import { UserError } from '../../foundation/errors.ts'
import { sourceFiles } from '../../events/discovery.ts'
import { EventFake } from '../../events/event-fake.ts'
import type { CommandHandler } from '../command.ts'
import type { Output } from '../output.ts'
import { oneLine } from '../quote-input.ts'

/** The folders whose exports tinker puts in scope by name. */
const SCOPED_FOLDERS = ['app/events', 'app/jobs', 'app/listeners', 'app/subscribers', 'app/models']

/** Where the REPL keeps its history, relative to the project: one per project, next to its .env. */
export const HISTORY_FILE = '.herald_tinker_history'

/**
 * What the REPL starts with: `app`, Herald's public API (`Event`, `Queue`, `Bus`, `DB`,
 * `Broadcast`, `EventBus`, `Channel`, … and all of it as `herald`), and every export of the
 * app/ folders above by its name (a default export by its class name). A name exported twice
 * keeps its first file; the list of clashes is returned for the banner.
 */
async function scope(app: Application, publicApi: (() => Promise<Record<string, unknown>>) | null): Promise<{ context: Record<string, unknown>; loaded: string[]; clashes: string[] }> {
  if (publicApi === null) throw new UserError("tinker needs Herald's public API in scope: run it through bin/artisan (node bin/artisan tinker).")
  const herald = await publicApi()
  const context: Record<string, unknown> = { ...herald, herald, app }
  const loaded: string[] = []
  const clashes: string[] = []
  const owners = new Map<string, string>()
  for (const folder of SCOPED_FOLDERS) {
    for (const file of sourceFiles(app.path(folder))) {
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>
      const shown = relative(app.path(), file).split(sep).join('/')
      for (const [exported, value] of Object.entries(module)) {
        const name = exported === 'default' ? (typeof value === 'function' ? value.name : '') : exported
        if (name === '' || name === 'default') continue
        const owner = owners.get(name)
        if (owner !== undefined) {
          if (context[name] !== value) clashes.push(`${name} (${shown}; kept ${owner})`)
          continue
        }
        owners.set(name, shown)
        context[name] = value
        loaded.push(name)
      }
    }
  }
  return { context, loaded, clashes }
}

/**
 * Puts the scope on `globalThis`, where the REPL evaluates (`useGlobal`: values typed at the
 * prompt are then of the application's realm, so a plain object is a plain object to the
 * serializer and an error an Error). The `Event` facade takes the place of node's DOM `Event`
 * class (kept as `DOMEvent`); fetch's classes extend that global when they first load, so they
 * are loaded first. The result puts every global back.
 */
async function installGlobals(context: Record<string, unknown>): Promise<() => void> {
  await fetch('data:,').then((response) => response.arrayBuffer())
  const scope: Record<string, unknown> = { ...context, DOMEvent: globalThis.Event }
  const previous = new Map<string, PropertyDescriptor | undefined>()
  for (const [name, value] of Object.entries(scope)) {
    previous.set(name, Object.getOwnPropertyDescriptor(globalThis, name))
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false })
  }
  return () => {
    for (const [name, descriptor] of previous) {
      if (descriptor === undefined) Reflect.deleteProperty(globalThis, name)
      else Object.defineProperty(globalThis, name, descriptor)
    }
  }
}

/**
 * node's REPL evaluation (top-level await, the value of the last expression), with TypeScript
 * type annotations stripped (esbuild) when the input is no valid JavaScript but valid TypeScript.
 */
function typeScriptAware(evaluate: REPLEval): REPLEval {
  return function (this: REPLServer, code, context, file, callback) {
    evaluate.call(this, code, context, file, (error, result) => {
      if (!(error instanceof SyntaxError) || error instanceof repl.Recoverable) return callback(error, result)
      void import('esbuild')
        .then(({ transformSync }) => transformSync(code, { loader: 'ts' }).code)
        .then(
          (stripped) => (stripped.trim() === code.trim() ? callback(error, result) : evaluate.call(this, stripped, context, file, callback)),
          () => callback(error, result),
        )
    })
  }
}

/** Prints what an installed `Event.fake()` recorded since the last call. */
function fakeReporter(app: Application, write: (line: string) => void): () => void {
  const printed = new WeakMap<EventFake, number>()
  return () => {
    const fake = app.make('events').currentInterceptor
    if (!(fake instanceof EventFake)) return
    const records = fake.recorded
    for (const record of records.slice(printed.get(fake) ?? 0)) {
      const shown = inspect(record.event, { depth: 3, breakLength: Infinity, maxStringLength: 120 })
      write(`[Event.fake] ${record.faked ? 'would dispatch' : 'dispatched (not faked)'} ${oneLine(record.name)} ${shown}`)
    }
    printed.set(fake, records.length)
  }
}

/**
 * Puts `evaluate` in place of the REPL's eval. node's own eval (top-level await, the last
 * expression's value) is only reachable from a server created without one, so tinker wraps it.
 */
function replaceEval(server: REPLServer, evaluate: REPLEval): void {
  ;(server as { eval: REPLEval }).eval = evaluate
}

/** One evaluation through the REPL's own eval: its result, or the error it threw or rejected with. */
function evaluateOnce(server: REPLServer, code: string): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  // The REPL reports a thrown error through its domain, not the callback: listen there too.
  const domain = (server as unknown as { _domain: EventEmitter })._domain
  return new Promise((resolve) => {
    const failed = (error: unknown) => resolve({ ok: false, error })
    domain.once('error', failed)
    server.eval(code, server.context, 'tinker', (error, value) => {
      domain.off('error', failed)
      resolve(error === null ? { ok: true, value } : { ok: false, error })
    })
  })
}

/** `tinker --execute "…"`: runs the code, prints its result (nothing for undefined), exit 1 with one line on an error. */
async function execute(app: Application, code: string, context: Record<string, unknown>, output: Output): Promise<number> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() })
  const server = repl.start({ input: new PassThrough(), output: sink, terminal: false, prompt: '', useGlobal: true })
  const restore = await installGlobals(context)
  try {
    replaceEval(server, typeScriptAware(server.eval))
    const result = await evaluateOnce(server, `${code}\n`)
    fakeReporter(app, (line) => output.line(line))()
    if (!result.ok) {
      const { error } = result
      const message = error instanceof Error ? `${error.name}: ${error.message}` : `Error: ${errorMessage(error)}`
      output.error(oneLine(message.split('\n', 1)[0] ?? ''))
      return 1
    }
    if (result.value !== undefined) output.line(inspect(result.value, { colors: output.ansi, depth: 4 }))
    await app.make('events').settled()
    return 0
  } finally {
    server.close()
    restore()
  }
}

/**
 * `artisan tinker`: a REPL on the booted application. The facades and app/ classes are in
 * scope, `await` works at the top level, TypeScript annotations are stripped, history is kept in
 * .herald_tinker_history, and while `Event.fake()` is installed each evaluation prints what it
 * would have dispatched. `.exit` (or Ctrl+D) leaves. `--execute "code"` runs code and exits.
 */
const tinker: CommandHandler = async ({ app, options, output, publicApi }) => {
  if (!app) throw new Error('tinker needs the booted application')
  const { context, loaded, clashes } = await scope(app, publicApi)
  if (typeof options.execute === 'string') return execute(app, options.execute, context, output)

  output.line(`Herald tinker (${app.config.get('app').env}). In scope: app, Event, Queue, Bus, DB, Broadcast, EventBus${loaded.length > 0 ? `, ${loaded.join(', ')}` : ''}.`)
  for (const clash of clashes) output.error(`  Not in scope under its name, exported twice: ${clash}`)
  output.line(output.paint('Top-level await works; .exit leaves.', 'dim'))
  // The global context, not a new one: values made at the prompt are of the same realm as the
  // application's (an error is an Error, an array passes instanceof Array).
  const server = repl.start({ prompt: 'herald> ', useColors: output.ansi, input: process.stdin, output: process.stdout, useGlobal: true })
  const restore = await installGlobals(context)
  server.once('exit', restore)
  const report = fakeReporter(app, (line) => process.stdout.write(`${line}\n`))
  const evaluate = typeScriptAware(server.eval)
  replaceEval(server, function (this: REPLServer, code, evalContext, file, callback) {
    evaluate.call(this, code, evalContext, file, (error, result) => {
      report()
      callback(error, result)
    })
  })
  await new Promise<void>((resolve, reject) => server.setupHistory(app.path(HISTORY_FILE), (error) => (error ? reject(error) : resolve())))
  await new Promise<void>((resolve) => server.once('exit', resolve))
  await app.make('events').settled()
  return 0
}

export default tinker
