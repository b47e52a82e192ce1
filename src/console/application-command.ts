import type { Application } from '../foundation/application.ts'
import { UserError } from '../foundation/errors.ts'
import type { Output } from './output.ts'
import { ProgressBar } from './progress-bar.ts'
import { ask, choice, confirm, type PromptAnswers } from './prompts.ts'
import type { ArgumentsOf, OptionsOf } from './signature-types.ts'

/** What the console hands a command before `handle()`: the booted app, the parsed input, where to write. */
export interface CommandRuntime {
  readonly app: Application
  readonly arguments: Readonly<Record<string, unknown>>
  readonly options: Readonly<Record<string, unknown>>
  readonly output: Output
  /** Answers to prompts by question (tests, `runCommand(..., { answers })`), asked before the terminal. */
  readonly answers?: PromptAnswers
}

// Symbol.for: a second copy of this module (src/ and dist/ in one process) still finds it.
const runtimeKey = Symbol.for('herald.command.runtime')

/** Binds a command instance to its run; the console calls this, application code never does. */
export function bindCommand(command: Command, runtime: CommandRuntime): void {
  ;(command as unknown as Record<symbol, CommandRuntime>)[runtimeKey] = runtime
}

/**
 * An application command (`app/commands/*.ts`, made with `artisan make:command`). Its
 * signature is declared once, in `Command.define(...)`, and types `this.argument()` and
 * `this.option()`:
 *
 * ```ts
 * export default class SendDigest extends Command.define('digest:send {user : The user id} {--dry-run} {--limit=10}') {
 *   static description = 'Send the weekly digest'
 *   async handle() {
 *     const user = this.argument('user') // string
 *     const limit = Number(this.option('limit')) // option('limit'): string
 *     if (this.option('dry-run')) this.warn('Dry run') // boolean
 *   }
 * }
 * ```
 *
 * `artisan list` reads the signature and description out of the file's text without importing
 * it, so both must be string literals.
 */
export abstract class Command<S extends string = string> {
  /** `name {argument} {--option}`: set by {@link Command.define}. */
  static signature: string = ''
  /** One line for `artisan list` and `help`. */
  static description: string = ''

  /** The base class for a command with this signature. */
  static define<const S extends string>(signature: S) {
    abstract class DefinedCommand extends Command<S> {
      static override signature: string = signature
    }
    return DefinedCommand
  }

  /** Runs the command; resolves to its exit code (default 0). A thrown UserError is one line on stderr and exit 1. */
  abstract handle(): Promise<number | void> | number | void

  private get runtime(): CommandRuntime {
    const runtime = (this as unknown as Record<symbol, CommandRuntime | undefined>)[runtimeKey]
    if (runtime === undefined) throw new Error(`${this.constructor.name} is not running: run it with artisan, Artisan.call() or runCommand().`)
    return runtime
  }

  /** The booted application. */
  protected get app(): Application {
    return this.runtime.app
  }

  protected argument<K extends keyof ArgumentsOf<S> & string>(name: K): ArgumentsOf<S>[K] {
    return this.runtime.arguments[name] as ArgumentsOf<S>[K]
  }

  protected option<K extends keyof OptionsOf<S> & string>(name: K): OptionsOf<S>[K] {
    return this.runtime.options[name] as OptionsOf<S>[K]
  }

  /** Every argument, by name. */
  protected arguments(): ArgumentsOf<S> {
    return { ...this.runtime.arguments } as ArgumentsOf<S>
  }

  /** Every option, by name (without `--`). */
  protected options(): OptionsOf<S> {
    return { ...this.runtime.options } as OptionsOf<S>
  }

  /** A line on stdout. */
  protected line(text = ''): void {
    this.runtime.output.line(text)
  }

  /** A green line on stdout. */
  protected info(text: string): void {
    this.runtime.output.line(this.runtime.output.paint(text, 'green'))
  }

  /** A yellow line on stderr. */
  protected warn(text: string): void {
    this.runtime.output.warn(text)
  }

  /** A red line on stderr (the exit code is still handle()'s: return 1, or throw a UserError). */
  protected error(text: string): void {
    this.runtime.output.error(text)
  }

  /** A table: the header painted, columns padded to their widest cell. */
  protected table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null | undefined>>): void {
    this.runtime.output.table(header, rows.map((row) => header.map((_, i) => String(row[i] ?? ''))))
  }

  /** A progress bar of `total` steps: redrawn in place on a terminal, one line when finished otherwise. */
  protected progress(total: number): ProgressBar {
    return new ProgressBar(this.runtime.output, total)
  }

  /** A yes/no question. Without a terminal: `fallback`, or a one-line error when there is none. */
  protected confirm(question: string, fallback?: boolean): Promise<boolean> {
    return confirm(question, fallback, this.runtime.answers)
  }

  /** A question with a free-text answer. Without a terminal: `fallback`, or a one-line error. */
  protected ask(question: string, fallback?: string): Promise<string> {
    return ask(question, fallback, this.runtime.answers)
  }

  /** One of `choices`. Without a terminal: `fallback`, or a one-line error. */
  protected choice<const C extends string>(question: string, choices: readonly C[], fallback?: C): Promise<C> {
    if (choices.length === 0) throw new UserError(`"${question}" has no choices to offer.`)
    return choice(question, choices, fallback, this.runtime.answers)
  }
}

/** A class that extends {@link Command}: what app/commands files export by default. */
export type CommandClass = (abstract new () => Command) & { readonly signature: string; readonly description: string }
