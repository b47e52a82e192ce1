import { UserError } from '../foundation/errors.ts'

/** `http://localhost:*`: a scheme and a host, any port (or none). */
const ANY_PORT = /^(https?):\/\/([^/:[\]]+|\[[^/\]]+\]):\*$/i

type Rule = { readonly kind: 'any' } | { readonly kind: 'exact'; readonly origin: string } | { readonly kind: 'any-port'; readonly protocol: string; readonly hostname: string }

/**
 * Which browser pages may open a socket or call `/broadcasting/auth`, by the `Origin` header
 * browsers send. Without the check, any site a logged-in user visits could open a socket with
 * the user's cookies and listen on their private channels (cross-site WebSocket hijacking).
 *
 * ```ts
 * const origins = new OriginPolicy(['https://shop.example.com', 'http://localhost:*'])
 * origins.allows('http://localhost:5173') // true
 * origins.allows(undefined)               // true: not a browser
 * ```
 *
 * A request without `Origin` is allowed: browsers always send it on WebSocket handshakes and
 * cross-origin requests, so its absence means a non-browser client (a node socket.io-client,
 * curl), which could send any `Origin` it liked, so refusing it would protect nobody.
 */
export class OriginPolicy {
  private readonly rules: readonly Rule[]

  /** @param entries origins (`https://shop.example.com`, an APP_URL with a path is fine), `scheme://host:*` for any port, or `*`. */
  constructor(readonly entries: readonly string[]) {
    this.rules = entries.map(compile)
  }

  /** True when a request with this `Origin` header (undefined: none) may go ahead. */
  allows(origin: string | readonly string[] | undefined): boolean {
    if (origin === undefined) return true
    if (typeof origin !== 'string') return false
    const given = parseOrigin(origin)
    if (given === null) return false
    return this.rules.some((rule) => {
      if (rule.kind === 'any') return true
      if (rule.kind === 'exact') return rule.origin === given.origin
      return rule.protocol === given.protocol && rule.hostname === given.hostname
    })
  }

  /** The one-line reason a refused origin gets: where the setting is. */
  refusal(origin: string | readonly string[] | undefined): string {
    return `Origin ${JSON.stringify(origin)} is not allowed to use broadcasting here: add it to BROADCAST_ALLOWED_ORIGINS (or set APP_URL to it).`
  }
}

function compile(entry: string): Rule {
  const text = entry.trim()
  if (text === '*') return { kind: 'any' }
  const anyPort = ANY_PORT.exec(text)
  if (anyPort) return { kind: 'any-port', protocol: `${anyPort[1]!.toLowerCase()}:`, hostname: anyPort[2]!.toLowerCase() }
  const url = parseOrigin(text)
  if (url === null) {
    throw new UserError(
      `Allowed origin "${entry}" is not an origin: write scheme://host[:port] (https://shop.example.com), scheme://host:* for any port, or * (BROADCAST_ALLOWED_ORIGINS, APP_URL).`,
    )
  }
  return { kind: 'exact', origin: url.origin }
}

/** The origin of an http(s) URL, or null (`null`, `file://`, garbage). */
function parseOrigin(text: string): URL | null {
  if (!URL.canParse(text)) return null
  const url = new URL(text)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : null
}
