/** A boolean flag as commander parsed it: `--force` → true, absent → false. */
export function flag(options: Readonly<Record<string, unknown>>, name: string): boolean {
  return options[name] === true
}

/** A value option as commander parsed it (`--event=OrderShipped`), or undefined when absent. */
export function text(options: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = options[name]
  return typeof value === 'string' ? value : undefined
}
