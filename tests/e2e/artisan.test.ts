import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { copyProject, projectRoot } from '../support/project-copy.ts'

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the real bin/artisan as a user would, in the project root (or in a copy of it). */
function artisan(args: string[], env: Record<string, string> = {}, cwd = projectRoot): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/artisan', ...args],
      { cwd, env: { ...process.env, ...env, NO_COLOR: '' }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 2) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** The demo's OrderPlaced listeners as event:list and event:show print them. */
const orderPlacedListeners = [
  '  ⇂ NotifyWarehouse (queued)',
  '  ⇂ ReserveStock',
  '  ⇂ SendOrderConfirmation (queued)',
  '  ⇂ AuditSubscriber (wildcard *)',
  '  ⇂ DashboardSubscriber (wildcard *)',
]

describe('bin/artisan', () => {
  it('event:list prints the demo app’s events with their discovered listeners', async () => {
    const run = await artisan(['event:list'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      [
        'OrderPlaced (broadcast)',
        ...orderPlacedListeners,
        'UserRegistered',
        '  ⇂ SendWelcomeEmail',
        '  ⇂ AuditSubscriber (wildcard *)',
        '  ⇂ DashboardSubscriber (wildcard *)',
        '* (wildcard)',
        '  ⇂ AuditSubscriber',
        '  ⇂ DashboardSubscriber',
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
          description: null,
          category: null,
          tags: [],
          broadcast: false,
          listeners: [
            { name: 'SendWelcomeEmail', method: null, pattern: null, queued: false },
            { name: 'AuditSubscriber', method: null, pattern: '*', queued: false },
            { name: 'DashboardSubscriber', method: null, pattern: '*', queued: false },
          ],
          schema: null,
          example: null,
        },
      ],
      wildcards: [],
    })
  })

  it('event:list --json gives each event’s catalog entry: description, tags, JSON Schema, example', async () => {
    const run = await artisan(['event:list', '--json', '--event', 'OrderPlaced'])
    expect(run.code).toBe(0)
    const [placed] = JSON.parse(run.stdout).events
    expect(placed).toMatchObject({
      event: 'OrderPlaced',
      description: 'A customer placed an order; dispatched once the order is committed',
      tags: ['orders', 'checkout'],
      broadcast: true,
      schema: { type: 'object', required: ['orderId', 'userId', 'items', 'total', 'email'] },
      example: { orderId: 1, userId: 1, items: [{ sku: 'BOOK-1', quantity: 1 }], total: 1, email: 'ada@example.test' },
    })
    expect(placed.listeners[0]).toEqual({ name: 'NotifyWarehouse', method: null, pattern: null, queued: true })
  })

  it('event:show prints one event: description, tags, listeners, schema and example payload', async () => {
    const [text, json] = await Promise.all([artisan(['event:show', 'OrderPlaced']), artisan(['event:show', 'OrderPlaced', '--json'])])
    expect(text.stderr).toBe('')
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(
      [
        'OrderPlaced (broadcast)',
        '  A customer placed an order; dispatched once the order is committed',
        '  Tags: orders, checkout',
        '',
        'Listeners',
        ...orderPlacedListeners,
        '',
        'Payload schema',
        '  {',
        '    "$schema": "https://json-schema.org/draft/2020-12/schema",',
      ].join('\n'),
    )
    expect(text.stdout).toContain('Example payload\n  {\n    "orderId": 1,')
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ event: 'OrderPlaced', example: { total: 1 } })
  })

  it('event:show of an unknown event names the close ones, on one line, exit 1', async () => {
    const [close, far] = await Promise.all([artisan(['event:show', 'OrderPlace']), artisan(['event:show', 'Nothing'])])
    expect(close).toEqual({ code: 1, stdout: '', stderr: 'Event "OrderPlace" is not known: did you mean OrderPlaced?\n' })
    expect(far).toEqual({ code: 1, stdout: '', stderr: 'Event "Nothing" is not known (see artisan event:list).\n' })
  })

  it('about boots the app and shows it with its events', async () => {
    const run = await artisan(['about'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Application       Herald')
    expect(run.stdout).toContain('Event discovery   on')
    expect(run.stdout).toContain('OrderPlaced (broadcast)\n  ⇂ NotifyWarehouse (queued)\n  ⇂ ReserveStock')
  })

  it('answers an unknown command with a suggestion and exit 1', async () => {
    const run = await artisan(['event:lst'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('Command "event:lst" is not defined.')
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

describe('artisan list and help', () => {
  it('lists the commands grouped by namespace, with no command or with list', async () => {
    const [bare, list] = await Promise.all([artisan([]), artisan(['list'])])
    expect(bare).toEqual(list)
    expect(list.code).toBe(0)
    const lines = list.stdout.split('\n')
    const available = lines.slice(lines.indexOf('Available commands:') + 1)
    expect(available.slice(0, 3).map((line) => line.trim().split(/\s+/)[0])).toEqual(['about', 'help', 'list'])
    expect(available).toContain(' event')
    expect(available.indexOf(' event')).toBeLessThan(available.findIndex((line) => line.startsWith('  event:list')))
    expect(list.stdout).toMatch(/ {2}event:list +List the application's events and listeners/)
    expect(list.stdout).not.toContain('\u001b[')
  })

  it('shows a command’s help with help CMD and CMD --help', async () => {
    const [viaHelp, viaFlag] = await Promise.all([artisan(['help', 'event:list']), artisan(['event:list', '--help'])])
    expect(viaHelp.code).toBe(0)
    expect(viaHelp.stdout).toBe(viaFlag.stdout)
    expect(viaHelp.stdout).toContain('Usage: artisan event:list [options]')
    expect(viaHelp.stdout).toContain('--event <name>')
  })
})

describe('event:cache and event:clear', () => {
  it('caches discovery for boot, reports a stale cache, and clears it', async () => {
    const copy = copyProject()
    try {
      const run = (args: string[]) => artisan(args, {}, copy.root)
      const cached = await run(['event:cache'])
      expect(cached.stderr).toBe('')
      expect(cached.stdout).toBe(
        'Events cached: 2 events, 4 listeners, 2 subscribers in node_modules/.cache/herald/events.json.\n',
      )
      const manifest = JSON.parse(readFileSync(join(copy.root, 'node_modules/.cache/herald/events.json'), 'utf8'))
      expect(manifest.listeners).toContainEqual({ file: 'app/listeners/reserve-stock.ts', export: 'default', events: ['OrderPlaced'] })

      // Boot now reads the cache: a listener added on disk is not seen until event:cache again.
      writeFileSync(
        join(copy.root, 'app/listeners/late-listener.ts'),
        "import { Listener } from 'herald'\nexport default class LateListener extends Listener.for('late.event') {\n  handle() {}\n}\n",
      )
      expect((await run(['event:list'])).stdout).not.toContain('late.event')
      await run(['event:cache'])
      expect((await run(['event:list'])).stdout).toContain('late.event\n  ⇂ LateListener')

      rmSync(join(copy.root, 'app/listeners/late-listener.ts'))
      const stale = await run(['event:list'])
      expect(stale.code).toBe(1)
      expect(stale.stderr).toBe(
        'The event cache is stale (app/listeners/late-listener.ts no longer exists): run "artisan event:cache" again, or "artisan event:clear".\n',
      )

      expect((await run(['event:clear'])).stdout).toBe('Cached events cleared.\n')
      expect((await run(['event:clear'])).stdout).toBe('There was no event cache.\n')
      const scanned = await run(['event:list'])
      expect(scanned.code).toBe(0)
      expect(scanned.stdout).not.toContain('late.event')

      // A generator drops the cache, so what it makes is discovered at once.
      await run(['event:cache'])
      const made = await run(['make:listener', 'ProbeListener', '--event=probe.made'])
      expect(made.stdout).toContain('CREATE app/listeners/probe-listener.ts')
      expect(made.stdout).toContain('Event cache cleared')
      expect((await run(['event:list'])).stdout).toContain('probe.made\n  ⇂ ProbeListener')
    } finally {
      copy.remove()
    }
  })
})
