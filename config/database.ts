import { defineConfig } from 'herald'

export default defineConfig((env) => ({
  // sqlite (the embedded default, a file in database/), pgsql or mysql (MySQL and MariaDB).
  default: env.oneOf('DB_CONNECTION', ['sqlite', 'pgsql', 'mysql'], 'sqlite'),
  connections: {
    sqlite: { driver: 'sqlite' as const, filename: env.string('DB_DATABASE', 'database/database.sqlite') },
    pgsql: {
      driver: 'pgsql' as const,
      host: env.string('DB_HOST', '127.0.0.1'),
      port: env.number('DB_PORT', 5432),
      user: env.string('DB_USERNAME', 'postgres'),
      password: env.string('DB_PASSWORD', ''),
      database: env.string('DB_DATABASE', 'test'),
    },
    mysql: {
      driver: 'mysql' as const,
      host: env.string('DB_HOST', '127.0.0.1'),
      port: env.number('DB_PORT', 3306),
      user: env.string('DB_USERNAME', 'root'),
      password: env.string('DB_PASSWORD', ''),
      database: env.string('DB_DATABASE', 'test'),
    },
  },
}))
