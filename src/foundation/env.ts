import { existsSync, readFileSync } from 'node:fs'
import { parse } from 'dotenv'
import { UserError } from './errors.ts'

/** Raw environment values, as `.env` and the process give them. */
export type EnvSource = Readonly<Record<string, string | undefined>>

/**
 * Typed reads of the environment, handed to each config factory. Values from the process
 * win over `.env`, as with dotenv. A malformed value is a one-line error naming the key.
 *
 * ```ts
 * export default defineConfig((env) => ({ port: env.number('PORT', 3000) }))
 * ```
 */
export class Env {
  constructor(private readonly source: EnvSource) {}

  /** Reads `.env` at `path` (if present) under the process environment. */
  static load(path: string | false, processEnv: EnvSource = process.env): Env {
    const fromFile = path !== false && existsSync(path) ? parse(readFileSync(path)) : {}
    return new Env({ ...fromFile, ...processEnv })
  }

  /** The raw value, or undefined when unset or empty. */
  get(key: string): string | undefined {
    const value = this.source[key]
    return value === undefined || value === '' ? undefined : value
  }

  string(key: string, fallback: string): string {
    return this.get(key) ?? fallback
  }

  number(key: string, fallback: number): number {
    const raw = this.get(key)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isFinite(value)) throw new UserError(`${key} must be a number, got "${raw}".`)
    return value
  }

  boolean(key: string, fallback: boolean): boolean {
    const raw = this.get(key)
    if (raw === undefined) return fallback
    const value = raw.toLowerCase()
    if (['true', '1', 'yes', 'on'].includes(value)) return true
    if (['false', '0', 'no', 'off'].includes(value)) return false
    throw new UserError(`${key} must be true or false, got "${raw}".`)
  }

  /** A comma-separated list (`a, b`), trimmed, without empty items. */
  list(key: string, fallback: readonly string[]): string[] {
    const raw = this.get(key)
    if (raw === undefined) return [...fallback]
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)
  }

  /** One of `choices`; anything else is an error that lists them. */
  oneOf<const T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const raw = this.get(key)
    if (raw === undefined) return fallback
    if ((choices as readonly string[]).includes(raw)) return raw as T
    throw new UserError(`${key} must be one of ${choices.join(', ')}, got "${raw}".`)
  }
}
