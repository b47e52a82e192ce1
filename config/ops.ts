import { defaultOpsConfig, defineConfig } from 'herald'

export default defineConfig((env) => ({
  // Who may read /health and /metrics: the token (OPS_TOKEN, as `Authorization: Bearer …` or
  // `?token=…`), or an address in OPS_ALLOWED_IPS (default: loopback only); OPS_HEALTH_PUBLIC
  // opens /health to everyone, as Laravel's /up. See .env.example.
  ...defaultOpsConfig(env),
}))
