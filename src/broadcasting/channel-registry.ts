import { join, sep } from 'node:path'
import { frameworkRoot } from '../foundation/framework-root.ts'
import type { BroadcastUser, ChannelCallback, UserResolver } from './contracts.ts'

/** A presence channel member, as Laravel Echo expects it. */
export interface PresenceMember {
  readonly user_id: string | number
  readonly user_info: Record<string, unknown>
}

export type Authorization =
  | { readonly allowed: false }
  | { readonly allowed: true; readonly member: PresenceMember | null }

interface Route {
  readonly pattern: string
  readonly regex: RegExp
  readonly callback: ChannelCallback
  /** Where `channel()` was called (`app/channels.ts:21`), or null when no application frame was found. */
  readonly source: string | null
}

/** One registered channel pattern, as `artisan channel:list` shows it. */
export interface RegisteredChannel {
  readonly pattern: string
  /** The `{param}` names, passed to the callback in order. */
  readonly parameters: readonly string[]
  /** The file (and line) that registered the callback, an absolute path. */
  readonly source: string | null
}

/**
 * The channel authorization callbacks of app/channels.ts:
 *
 * ```ts
 * Broadcast.channel('orders.{orderId}', (user, orderId) => user.id === ordersOwner(orderId))
 * Broadcast.channel('chat.{roomId}', (user) => ({ id: user.id, name: user.name }))   // presence
 * ```
 *
 * Patterns name the channel without its `private-` / `presence-` prefix; `{param}` matches one
 * segment without dots and is passed to the callback. The first registered pattern that
 * matches decides.
 */
export class ChannelRegistry {
  private readonly routes: Route[] = []
  private resolver: UserResolver | null = null

  /**
   * Says who the user of a socket or an HTTP request is (headers, cookies, `handshake.auth`),
   * for the server `artisan serve` starts; set it in app/channels.ts.
   */
  resolveUsersWith(resolver: UserResolver): void {
    this.resolver = resolver
  }

  /** The resolver set with `resolveUsersWith`, if any. */
  get userResolver(): UserResolver | null {
    return this.resolver
  }

  channel(pattern: string, callback: ChannelCallback): void {
    const source = pattern
      .split(/(\{[^}]+\})/)
      .map((part) => (/^\{[^}]+\}$/.test(part) ? '([^.]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')
    this.routes.push({ pattern, regex: new RegExp(`^${source}$`), callback, source: callerFile(new Error().stack) })
  }

  /**
   * The registered channels in order, each with its parameters and the file that registered it.
   *
   * ```ts
   * registry.channels() // [{ pattern: 'orders.{userId}', parameters: ['userId'], source: '/srv/shop/app/channels.ts:21' }]
   * ```
   */
  channels(): RegisteredChannel[] {
    return this.routes.map(({ pattern, source }) => ({
      pattern,
      parameters: [...pattern.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!),
      source,
    }))
  }

  /** The registered patterns, in order. */
  patterns(): string[] {
    return this.routes.map((route) => route.pattern)
  }

  /**
   * Decides whether `user` may subscribe to the wire channel. Public channels are always
   * allowed; private and presence channels need a user and a callback that allows them.
   */
  async authorize(user: BroadcastUser | null, wireName: string): Promise<Authorization> {
    const presence = wireName.startsWith('presence-')
    const priv = wireName.startsWith('private-')
    if (!presence && !priv) return { allowed: true, member: null }
    if (user === null) return { allowed: false }
    const name = wireName.slice(presence ? 'presence-'.length : 'private-'.length)
    for (const route of this.routes) {
      const match = route.regex.exec(name)
      if (!match) continue
      const result = await route.callback(user, ...match.slice(1))
      if (!result) return { allowed: false }
      if (!presence) return { allowed: true, member: null }
      const info = typeof result === 'object' ? result : {}
      return { allowed: true, member: { user_id: user.id, user_info: info } }
    }
    return { allowed: false }
  }
}

/** Frames of the framework itself (its src/ or dist/), of packages and of node: not where a channel was registered. */
function isFrameworkFrame(file: string): boolean {
  const root = frameworkRoot()
  return file.startsWith(join(root, 'src', sep)) || file.startsWith(join(root, 'dist', sep)) || file.includes(`${sep}node_modules${sep}`) || file.startsWith('node:')
}

/** The first frame of a stack outside the framework, as `/absolute/path:line`. */
function callerFile(stack: string | undefined): string | null {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const match = /\(?((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+):\d+\)?\s*$/.exec(line)
    if (match === null) continue
    const file = decodeURIComponent(match[1]!.replace(/^file:\/\//, ''))
    if (!isFrameworkFrame(file)) return `${file}:${match[2]}`
  }
  return null
}
