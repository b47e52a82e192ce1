import { defineConfig } from 'herald'
import AppServiceProvider from '../app/providers/app-service-provider.ts'

export default defineConfig((env) => ({
  name: env.string('APP_NAME', 'Herald'),
  env: env.string('APP_ENV', 'local'),
  debug: env.boolean('APP_DEBUG', false),
  logLevel: env.oneOf('LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'], 'info'),
  // Where users reach the application: https: makes cookies Secure and turns on HSTS.
  url: env.string('APP_URL', 'http://127.0.0.1:3000'),
  // Signs CSRF tokens and cross-process broadcasts; `artisan key:generate` writes one into .env.
  // Required when APP_ENV=production; elsewhere a missing key is made up per process.
  key: env.get('APP_KEY') ?? null,
  providers: [AppServiceProvider],
}))
