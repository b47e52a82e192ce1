/** The local services the benchmarks use, from the usual environment variables. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** PostgreSQL (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE; default postgres@127.0.0.1:5432/test). */
export const PG = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  password: process.env.PGPASSWORD ?? '',
  database: process.env.PGDATABASE ?? 'test',
}
