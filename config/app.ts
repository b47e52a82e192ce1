import { defineConfig } from 'herald'
import AppServiceProvider from '../app/providers/app-service-provider.ts'

export default defineConfig((env) => ({
  name: env.string('APP_NAME', 'Herald'),
  env: env.string('APP_ENV', 'local'),
  debug: env.boolean('APP_DEBUG', false),
  logLevel: env.oneOf('LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'], 'info'),
  providers: [AppServiceProvider],
}))
