import type { Env } from './env.ts'

/**
 * config/ops.ts: who may read the operations endpoints, `/health` and `/metrics`. A request
 * gets in with the token, or from an allowed address; anyone else gets a 401 or 403 that says
 * nothing more.
 */
export interface OpsConfig {
  /**
   * A shared secret, sent as `Authorization: Bearer <token>` or `?token=<token>` (OPS_TOKEN).
   * Null: no token lets anyone in.
   */
  token: string | null
  /**
   * Client addresses let in without the token: exact addresses (`10.1.2.3`, `::1`), CIDR
   * ranges (`10.0.0.0/8`, `fd00::/8`), `*` for any, `none` for no address (OPS_ALLOWED_IPS,
   * comma-separated). Default: loopback only, so the machine itself (and `artisan serve` on a
   * laptop) can read them and the network cannot. A request that came through a proxy (it has
   * X-Forwarded-For, Forwarded or X-Real-IP) counts as the proxy's client: unknown, unless
   * express's `trust proxy` is set, which makes `request.ip` the client's address.
   */
  allowedIps: string[]
  /** `/health` open to everyone, as Laravel's `/up` is (OPS_HEALTH_PUBLIC); `/metrics` stays behind the rule above. Default false. */
  publicHealth: boolean
}

/** The ops section's defaults, from the environment: what config/ops.ts starts from. */
export function defaultOpsConfig(env: Env): OpsConfig {
  return {
    token: env.get('OPS_TOKEN') ?? null,
    allowedIps: env.list('OPS_ALLOWED_IPS', ['127.0.0.0/8', '::1']),
    publicHealth: env.boolean('OPS_HEALTH_PUBLIC', false),
  }
}
