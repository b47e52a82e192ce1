/**
 * Wildcard patterns, Laravel's `Str::is` rules: `*` matches any run of characters, dots
 * included, so `orders.*` matches `orders.created` and `orders.item.added`, `*.created`
 * matches `users.created`, and `*` matches every event. Everything else matches literally.
 */
export function isWildcard(key: string): boolean {
  return key.includes('*')
}

/** Compiles a pattern to a predicate on event names. */
export function wildcardMatcher(pattern: string): (eventName: string) => boolean {
  if (pattern === '*') return () => true
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  const regex = new RegExp(`^${source}$`, 's')
  return (eventName) => regex.test(eventName)
}
