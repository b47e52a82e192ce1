/** A boolean flag as commander parsed it: `--force` → true, absent → false. */
export function flag(options: Readonly<Record<string, unknown>>, name: string): boolean {
  return options[name] === true
}

/** A value option as commander parsed it (`--event=OrderShipped`), or undefined when absent. */
export function text(options: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = options[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * A variadic option as commander parsed it (`--events a b` → ['a', 'b']), or undefined when
 * absent. A single string (a caller that is not commander) counts as a list of one.
 */
export function list(options: Readonly<Record<string, unknown>>, name: string): readonly string[] | undefined {
  const value = options[name]
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string')
  return undefined
}
