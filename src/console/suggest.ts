/** Optimal string alignment distance: edits, with a swap of two neighbours counting as one. */
function distance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      rows[i]![j] = best
    }
  }
  return rows[a.length]![b.length]!
}

/**
 * ` Did you mean event:list?` (or `… one of a, b?`) for a mistyped command name: the names
 * closest to it (at most 40% of it changed), else those of its namespace; empty when none is near.
 */
export function suggestCommands(typed: string, names: readonly string[]): string {
  const limit = Math.max(1, Math.floor(typed.length * 0.4))
  let best = Infinity
  let closest: string[] = []
  for (const name of names) {
    const d = distance(typed, name)
    if (d > limit || d > best) continue
    if (d < best) closest = []
    best = d
    closest.push(name)
  }
  if (closest.length === 0 && typed.includes(':')) {
    const namespace = typed.slice(0, typed.indexOf(':') + 1)
    closest = names.filter((name) => name.startsWith(namespace))
  }
  if (closest.length === 0) return ''
  return closest.length === 1 ? ` Did you mean ${closest[0]}?` : ` Did you mean one of ${closest.sort().join(', ')}?`
}
