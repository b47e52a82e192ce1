import { defineConfig } from 'herald'

export default defineConfig((env) => ({
  // Security headers (helmet) on every response of the web server, 404s and errors included:
  // a CSP allowing only this server's scripts, styles and socket, frame-ancestors 'self',
  // X-Frame-Options, nosniff, Referrer-Policy same-origin, HSTS when APP_URL is https.
  // `false` sends none; helmet options here are merged over those defaults, CSP directives
  // one by one (null drops one), e.g.
  //   contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:', 'https://images.example.com'] } },
  headers: {},
  cookies: {
    // The XSRF-TOKEN cookie over HTTPS only: on when APP_URL is https, or SESSION_SECURE_COOKIE=true.
    secure: env.boolean('SESSION_SECURE_COOKIE', env.string('APP_URL', 'http://127.0.0.1:3000').startsWith('https:')),
    sameSite: 'lax' as const,
  },
}))
