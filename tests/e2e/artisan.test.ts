import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the real bin/artisan as a user would, in the project root. */
function artisan(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/artisan', ...args],
      { cwd: root, env: { ...process.env, ...env, NO_COLOR: '' }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 2) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

describe('bin/artisan', () => {
  it('event:list prints the demo app’s events with their discovered listeners', async () => {
    const run = await artisan(['event:list'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      [
        'OrderPlaced',
        '  ⇂ ReserveStock',
        '  ⇂ AuditSubscriber (wildcard *)',
        'UserRegistered',
        '  ⇂ SendWelcomeEmail',
        '  ⇂ AuditSubscriber (wildcard *)',
        '* (wildcard)',
        '  ⇂ AuditSubscriber',
        '',
      ].join('\n'),
    )
  })

  it('event:list --json and --event filter', async () => {
    const run = await artisan(['event:list', '--json', '--event', 'User'])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({
      events: [
        {
          event: 'UserRegistered',
          broadcast: false,
          listeners: [
            { name: 'SendWelcomeEmail', method: null, pattern: null, queued: false },
            { name: 'AuditSubscriber', method: null, pattern: '*', queued: false },
          ],
        },
      ],
      wildcards: [],
    })
  })

  it('about (npm start) boots the app and shows it with its events', async () => {
    const run = await artisan(['about'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Application       Herald')
    expect(run.stdout).toContain('Event discovery   on')
    expect(run.stdout).toContain('OrderPlaced\n  ⇂ ReserveStock')
  })

  it('answers an unknown command with a suggestion and exit 1', async () => {
    const run = await artisan(['event:lst'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain("unknown command 'event:lst'")
    expect(run.stderr).toContain('Did you mean event:list?')
  })

  it('reports a bad setting as one line on stderr with exit 1', async () => {
    const run = await artisan(['event:list'], { EVENTS_DISCOVERY: 'maybe' })
    expect(run.code).toBe(1)
    expect(run.stderr).toBe('EVENTS_DISCOVERY must be true or false, got "maybe".\n')
    expect(run.stdout).toBe('')
  })

  it('prints its version', async () => {
    const run = await artisan(['--version'])
    expect(run.code).toBe(0)
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
