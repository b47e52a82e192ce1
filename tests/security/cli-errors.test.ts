import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import knex from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyProject } from '../support/project-copy.ts'

/**
 * Bad input to the real CLI: one line on stderr and exit 1, never the SQL a query was made of,
 * never a stack, never a password. Exit 2 is kept for Herald's own bugs, and even then it is one
 * line without SQL unless --verbose asks for the stack.
 */

interface Run {
  code: number
  stdout: string
  stderr: string
}

// The child reads its settings from the copy's .env and from what a test passes, not from
// whatever database or queue this test process was started with.
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(VITEST|DB_|EVENTS_|QUEUE_|REDIS_)/.test(key)),
)

function artisan(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/artisan', ...args],
      { cwd, env: { ...childEnv, ...env, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 2) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** Exactly one line on stderr, nothing on stdout, no SQL, no stack; returns the line. */
function oneLineError(run: Run, code: 1 | 2 = 1): string {
  expect(run, JSON.stringify(run)).toMatchObject({ code, stdout: '' })
  const lines = run.stderr.trimEnd().split('\n')
  expect(lines, run.stderr).toHaveLength(1)
  expect(run.stderr).not.toMatch(/\bselect\b|\binsert into\b|\bdelete from\b/i)
  expect(run.stderr).not.toMatch(/^\s+at /m)
  return lines[0]!
}

describe('bad input to artisan is one line and exit 1', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  it('event:history --limit=99999999999999999999 names the option, not the SQL', async () => {
    const line = oneLineError(await artisan(copy.root, ['event:history', '--limit=99999999999999999999']))
    expect(line).toBe('--limit must be a whole number from 1 to 1000000, got "99999999999999999999".')
  })

  it.each(['0', '-5', '1.5', '1e3', '0x10', 'abc', '1000001', ' 7', ''])('event:history --limit=%j is refused', async (value) => {
    const line = oneLineError(await artisan(copy.root, ['event:history', `--limit=${value}`]))
    expect(line).toMatch(/^--limit must be a whole number from 1 to 1000000, got "/)
  })

  it.each(['-1', '1e400', 'abc', '0x10', '2000000'])('queue:flush --hours=%j is refused', async (value) => {
    const line = oneLineError(await artisan(copy.root, ['queue:flush', `--hours=${value}`]))
    expect(line).toMatch(/^--hours must be a number from 0 to 1000000, got "/)
  })

  // Above 2^31 - 1 ms a Node timer fires at once: --timeout=1e12 made every job time out.
  it.each([['--timeout', '1e12'], ['--sleep', '2147484'], ['--max-time', '-1'], ['--concurrency', '0x10'], ['--max-disconnected', 'abc']])(
    'queue:work %s=%j is refused',
    async (flag, value) => {
      const line = oneLineError(await artisan(copy.root, ['queue:work', `${flag}=${value}`, '--once']))
      expect(line).toBe(`${flag} must be a number from 0 to 2147483, got "${value}".`)
    },
  )

  it('a failed job id no column holds is refused before any query', async () => {
    expect(oneLineError(await artisan(copy.root, ['queue:forget', '99999999999999999999']))).toBe(
      '"99999999999999999999" is not a failed job id: ids are whole numbers from 1 to 9007199254740991 (see queue:failed).',
    )
    expect(oneLineError(await artisan(copy.root, ['queue:retry', '5,99999999999999999999']))).toContain('is not a failed job id')
    expect(oneLineError(await artisan(copy.root, ['queue:forget', 'u'.repeat(300)]))).toContain('(300 characters) is not a failed job id')
    const many = Array.from({ length: 1001 }, (_, index) => String(index + 1)).join(',')
    expect(oneLineError(await artisan(copy.root, ['queue:retry', many]))).toBe(
      'queue:retry takes at most 1000 ids at once (got 1001); or retry them all with queue:retry all.',
    )
  })

  it('commander’s errors, suggestion included, stay on one line', async () => {
    expect(oneLineError(await artisan(copy.root, ['event:history', '--lmit=3']))).toBe(
      "error: unknown option '--lmit=3' (Did you mean --limit?)",
    )
    expect(oneLineError(await artisan(copy.root, ['event:history', '--limit']))).toBe("error: option '--limit <n>' argument missing")
    expect(oneLineError(await artisan(copy.root, ['make:event']))).toBe("error: missing required argument 'name'")
  })

  it('input echoed in a message cannot break the line', async () => {
    const line = oneLineError(await artisan(copy.root, ['migrate', '--database=no\nsuch\u001b[2J']))
    expect(line).toBe('Database connection "no\\nsuch\\u001b[2J" is not configured in config/database.ts.')
    expect(oneLineError(await artisan(copy.root, ['event:history', '--since=2026\n01-01']))).toContain('got "2026\\n01-01"')
  })
})

describe('a database that cannot be reached is one line naming it, without its password', () => {
  let copy: ReturnType<typeof copyProject>
  const password = 'pw-must-not-show-3141'
  beforeAll(() => {
    copy = copyProject()
    // Port 1: nothing listens there (binding it needs root, and no service does).
    writeFileSync(
      join(copy.root, '.env'),
      ['DB_CONNECTION=pgsql', 'DB_HOST=127.0.0.1', 'DB_PORT=1', 'DB_DATABASE=test', 'DB_USERNAME=postgres', `DB_PASSWORD=${password}`, ''].join('\n'),
    )
  })
  afterAll(() => copy.remove())

  const unreachable = 'Database "pgsql" at 127.0.0.1:1 is unreachable (connect ECONNREFUSED 127.0.0.1:1)'

  it.each([['migrate'], ['migrate:status'], ['migrate:rollback']])('%s', async (command) => {
    const run = await artisan(copy.root, [command])
    expect(oneLineError(run)).toBe(unreachable)
    expect(run.stderr + run.stdout).not.toContain(password)
  })

  it('migrate on a MySQL connection at a closed port', async () => {
    const run = await artisan(copy.root, ['migrate'], { DB_CONNECTION: 'mysql' })
    expect(oneLineError(run)).toBe('Database "mysql" at 127.0.0.1:1 is unreachable (connect ECONNREFUSED 127.0.0.1:1)')
    expect(run.stderr).not.toContain(password)
  })

  it('event:history, queue:flush and queue:forget name the database too', async () => {
    expect(oneLineError(await artisan(copy.root, ['event:history'], { EVENTS_STORE_ENABLED: 'true' }))).toBe(unreachable)
    expect(oneLineError(await artisan(copy.root, ['queue:flush']))).toBe(unreachable)
    expect(oneLineError(await artisan(copy.root, ['queue:forget', '5']))).toBe(unreachable)
  })

  it('any other command reaching a closed port gets the kernel’s one line, exit 1', async () => {
    const line = oneLineError(await artisan(copy.root, ['queue:failed']))
    expect(line).toBe('A service is unreachable (connect ECONNREFUSED 127.0.0.1:1): check that it is running and its address in .env.')
  })

  it('a SQLite file that cannot be opened is one line naming it', async () => {
    const line = oneLineError(await artisan(copy.root, ['migrate'], { DB_CONNECTION: 'sqlite', DB_DATABASE: '/nonexistent-herald/db.sqlite' }))
    expect(line).toBe('Database "sqlite" at /nonexistent-herald/db.sqlite is unreachable (Cannot open database because the directory does not exist)')
  })
})

describe("Herald's own failures are exit 2, one line without the SQL", () => {
  let copy: ReturnType<typeof copyProject>
  const file = 'database/broken.sqlite'
  beforeAll(async () => {
    copy = copyProject()
    // A stored_events table of the wrong shape: the query fails inside the driver.
    const db = knex({ client: 'better-sqlite3', connection: { filename: join(copy.root, file) }, useNullAsDefault: true })
    await db.raw('CREATE TABLE stored_events (unrelated INTEGER)')
    await db.destroy()
  })
  afterAll(() => copy.remove())

  const env = { DB_CONNECTION: 'sqlite', DB_DATABASE: file, EVENTS_STORE_ENABLED: 'true' }

  it('prints the driver’s reason, not the statement', async () => {
    const line = oneLineError(await artisan(copy.root, ['event:history'], env), 2)
    expect(line).toMatch(/^Error: a database statement failed: no such column: \w+$/)
  })

  it('--verbose adds the stack', async () => {
    const run = await artisan(copy.root, ['event:history', '--verbose'], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^\s+at /m)
  })
})
