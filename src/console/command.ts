import type { Application } from '../foundation/application.ts'
import type { Output } from './output.ts'

/** What a command's module receives. `app` is booted when the command declares `boots`. */
export interface CommandContext {
  readonly app: Application | null
  readonly args: readonly string[]
  readonly options: Readonly<Record<string, unknown>>
  readonly output: Output
  readonly cwd: string
  /** Boots the application on demand (once), for commands that declare `boots: false`. */
  readonly boot: () => Promise<Application>
  /** Every command of the console, as the manifest lists them (what `list` shows). */
  readonly commands: readonly CommandDefinition[]
  /** Herald's public API (`import 'herald'`), when the caller passed it (bin/artisan does). */
  readonly publicApi: (() => Promise<Record<string, unknown>>) | null
}

/** A command module's default export. Resolves to the exit code (default 0). */
export type CommandHandler = (context: CommandContext) => Promise<number | void> | number | void

/** Command metadata: enough to build the CLI and its help without importing the command. */
export interface CommandDefinition {
  readonly name: string
  readonly description: string
  readonly arguments?: ReadonlyArray<{ readonly name: string; readonly description: string; readonly required?: boolean }>
  readonly options?: ReadonlyArray<{ readonly flags: string; readonly description: string }>
  /** Boot the application (env, config, providers, discovery) before running. */
  readonly boots: boolean
  readonly load: () => Promise<{ default: CommandHandler }>
}
