import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyProject } from '../support/project-copy.ts'

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(cwd: string, file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 2) : 0, stdout, stderr })
    })
  })
}

const artisan = (cwd: string, ...args: string[]) => run(cwd, process.execPath, ['bin/artisan', ...args])
const timeout = 240_000

/** String events declared the way an application does: typed in EventsList, described at run time. */
const taskEvents = `import { defineEvents } from 'herald'
import { z } from 'zod'

declare module 'herald' {
  interface EventsList {
    'export.finished': { id: number; durationMs: number }
    'export.failed': { id: number; reason: string }
    'odd:näme-1\\u001b[2J': { id: number }
  }
}

export const taskEvents = defineEvents({
  'export.finished': {
    description: 'An export finished',
    tags: ['exports'],
    schema: z.object({ id: z.number().int().positive(), durationMs: z.number().int().nonnegative() }),
  },
  'export.failed': { description: 'An export gave up\\u001b[31m for good' },
  'odd:näme-1\\u001b[2J': {},
})
`

/** A name EventsList does not declare is a compile error: the catalog and the types agree. */
const undeclared = `import { defineEvents } from 'herald'

// @ts-expect-error 'export.unknown' is not in EventsList
defineEvents({ 'export.unknown': { description: 'not typed' } })
`

function write(root: string, file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true })
  writeFileSync(join(root, file), text)
}

interface Listed {
  event: string
  description: string | null
  tags: string[]
  schema: { type?: string; properties?: Record<string, unknown> } | null
  example: unknown
  listeners: Array<{ name: string }>
}

describe('string events declared with defineEvents in the catalog', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(async () => {
    copy = copyProject()
    write(copy.root, 'app/events/task-events.ts', taskEvents)
    write(copy.root, 'tests/catalog-types.ts', undeclared)
    const listener = await artisan(copy.root, 'make:listener', 'LogFailure', '--event=export.failed')
    expect(listener).toEqual({ code: 0, stdout: 'CREATE app/listeners/log-failure.ts\n', stderr: '' })
  })
  afterAll(() => copy.remove())

  it('type-checks, and a declaration of a name EventsList lacks does not', { timeout }, async () => {
    const result = await run(copy.root, join(copy.root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'])
    expect(result.stdout + result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('event:list shows them, with no listeners yet or with theirs, names escaped onto their line', { timeout }, async () => {
    const result = await artisan(copy.root, 'event:list')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    // The demo's AuditSubscriber and DashboardSubscriber listen to '*': every event has them.
    const wildcards = '  ⇂ AuditSubscriber (wildcard *)\n  ⇂ DashboardSubscriber (wildcard *)\n'
    expect(result.stdout).toContain(`export.finished\n${wildcards}`)
    expect(result.stdout).toContain(`export.failed\n  ⇂ LogFailure\n${wildcards}`)
    expect(result.stdout).toContain(`odd:näme-1\\u001b[2J\n${wildcards}`)
    expect(result.stdout).not.toContain('\u001b')
  })

  it('event:list --json gives a declared event its description, tags, JSON Schema and an example', { timeout }, async () => {
    const result = await artisan(copy.root, 'event:list', '--json', '--event', 'export.')
    expect(result.code).toBe(0)
    const { events } = JSON.parse(result.stdout) as { events: Listed[] }
    expect(events.map((event) => event.event)).toEqual(['export.failed', 'export.finished'])
    const [failed, completed] = events
    expect(completed).toMatchObject({ description: 'An export finished', tags: ['exports'], example: { id: 1, durationMs: 1 } })
    expect(completed!.listeners.map(({ name }) => name)).toEqual(['AuditSubscriber', 'DashboardSubscriber'])
    expect(completed!.schema).toMatchObject({ type: 'object', properties: { id: { type: 'integer' }, durationMs: { type: 'integer' } } })
    expect(failed).toMatchObject({ description: 'An export gave up\u001b[31m for good', schema: null, example: null, listeners: [{ name: 'LogFailure' }, { name: 'AuditSubscriber' }, { name: 'DashboardSubscriber' }] })
  })

  it('event:show prints a declared event’s schema and example, or says how to declare one', { timeout }, async () => {
    const [completed, failed] = await Promise.all([artisan(copy.root, 'event:show', 'export.finished'), artisan(copy.root, 'event:show', 'export.failed')])
    expect(completed.stderr).toBe('')
    expect(completed.stdout).toContain('export.finished\n  An export finished\n  Tags: exports\n\nListeners\n  ⇂ AuditSubscriber (wildcard *)\n  ⇂ DashboardSubscriber (wildcard *)\n\nPayload schema\n  {\n')
    expect(completed.stdout).toContain('"durationMs": {\n        "type": "integer",\n        "minimum": 0')
    expect(completed.stdout).toContain('Example payload\n  {\n    "id": 1,\n    "durationMs": 1\n  }\n')
    expect(failed.stdout).toContain('export.failed\n  An export gave up\\u001b[31m for good\n')
    expect(failed.stdout).toContain('Payload schema\n  (none: declare static schema, or schema in defineEvents() for a string event)\n')
    expect(failed.stdout).not.toContain('\u001b')
    expect(await artisan(copy.root, 'event:show', 'export.finishe')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Event "export.finishe" is not known: did you mean export.finished?\n',
    })
  })

  it('a category filter where no event declares one is an error saying how to declare one', { timeout }, async () => {
    expect(await artisan(copy.root, 'event:list', '--category', 'exports')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'No event has category "exports": none declares one (static category, or category in defineEvents()).\n',
    })
  })

  it('the event cache keeps the declarations', { timeout }, async () => {
    const cache = await artisan(copy.root, 'event:cache')
    expect(cache.code).toBe(0)
    try {
      const result = await artisan(copy.root, 'event:show', 'export.finished', '--json')
      expect(result.code).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({ event: 'export.finished', description: 'An export finished' })
    } finally {
      expect((await artisan(copy.root, 'event:clear')).code).toBe(0)
    }
  })

  it('an event declared twice stops boot with one line naming both files', { timeout }, async () => {
    const file = 'app/events/more-task-events.ts'
    write(copy.root, file, `import { defineEvents } from 'herald'\nexport const again = defineEvents({ 'export.failed': {} })\n`)
    try {
      expect(await artisan(copy.root, 'event:list')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Event "export.failed" is declared twice, in app/events/task-events.ts and app/events/more-task-events.ts: declare it once.\n',
      })
    } finally {
      rmSync(join(copy.root, file))
    }
  })
})

const categorised = {
  'app/events/invoice-sent.ts': `import { Dispatchable } from 'herald'

export class InvoiceSent extends Dispatchable {
  static description = 'An invoice went out'
  static category = 'billing'
}
`,
  'app/events/catalog-events.ts': `import { defineEvents } from 'herald'

declare module 'herald' {
  interface EventsList {
    'catalog.report.sent': { id: number }
    'catalog.odd': { id: number }
  }
}

export const catalogEvents = defineEvents({
  'catalog.report.sent': { category: 'reports' },
  'catalog.odd': { category: 'we\\u001b[2Jird ü/1' },
})
`,
}

describe('event categories', () => {
  let copy: ReturnType<typeof copyProject>
  const wildcards = '  ⇂ AuditSubscriber (wildcard *)\n  ⇂ DashboardSubscriber (wildcard *)\n'
  beforeAll(() => {
    copy = copyProject()
    for (const [file, text] of Object.entries(categorised)) write(copy.root, file, text)
  })
  afterAll(() => copy.remove())

  it('event:list shows each event’s category, escaped onto its line', { timeout }, async () => {
    const result = await artisan(copy.root, 'event:list')
    expect(result.stderr).toBe('')
    expect(result.stdout).toContain(`InvoiceSent [billing]\n${wildcards}`)
    expect(result.stdout).toContain(`catalog.report.sent [reports]\n${wildcards}`)
    expect(result.stdout).toContain(`catalog.odd [we\\u001b[2Jird ü/1]\n${wildcards}`)
    // Events without one show none.
    expect(result.stdout).toContain('\nUserRegistered\n')
    expect(result.stdout).not.toContain('\u001b')
  })

  it('--category keeps that category’s events exactly, odd characters included, and no wildcard patterns', { timeout }, async () => {
    const [billing, odd, json, named] = await Promise.all([
      artisan(copy.root, 'event:list', '--category', 'billing'),
      artisan(copy.root, 'event:list', '--category=we\u001b[2Jird ü/1'),
      artisan(copy.root, 'event:list', '--category', 'reports', '--json'),
      artisan(copy.root, 'event:list', '--category', 'billing', '--event', 'Order'),
    ])
    expect(billing).toEqual({ code: 0, stdout: `InvoiceSent [billing]\n${wildcards}`, stderr: '' })
    expect(odd).toEqual({ code: 0, stdout: `catalog.odd [we\\u001b[2Jird ü/1]\n${wildcards}`, stderr: '' })
    expect(json.code).toBe(0)
    const listing = JSON.parse(json.stdout) as { events: Array<{ event: string; category: string }>; wildcards: unknown[] }
    expect(listing.events.map(({ event, category }) => [event, category])).toEqual([['catalog.report.sent', 'reports']])
    expect(listing.wildcards).toEqual([])
    // A known category with a name filter that leaves nothing is an empty list, not an error.
    expect(named).toEqual({ code: 0, stdout: 'No events match "Order".\n', stderr: '' })
  })

  it('an unknown or empty category is one line on stderr and exit 1, in JSON mode too', { timeout }, async () => {
    const cases: Array<[string[], string]> = [
      [['--category', 'Billing'], 'No event has category "Billing": did you mean billing?'],
      [['--category', 'reprts', '--json'], 'No event has category "reprts": did you mean reports?'],
      [['--category', 'nothing-like-it'], 'No event has category "nothing-like-it": the categories are billing, reports, we\\u001b[2Jird ü/1.'],
      [['--category', 'x\nboom\u001b[2J'], 'No event has category "x\\nboom\\u001b[2J": the categories are billing, reports, we\\u001b[2Jird ü/1.'],
      [['--category', ' '], '--category is empty: give one, e.g. --category orders.'],
      [['--category', ''], '--category is empty: give one, e.g. --category orders.'],
    ]
    const results = await Promise.all(cases.map(([args]) => artisan(copy.root, 'event:list', ...args)))
    results.forEach((result, index) => {
      const [args, message] = cases[index]!
      expect({ args, ...result }).toEqual({ args, code: 1, stdout: '', stderr: `${message}\n` })
    })
  })

  it('event:show prints the category', { timeout }, async () => {
    const [invoice, plain] = await Promise.all([artisan(copy.root, 'event:show', 'InvoiceSent'), artisan(copy.root, 'event:show', 'UserRegistered')])
    expect(invoice.stdout).toContain('InvoiceSent\n  An invoice went out\n  Category: billing\n\nListeners\n')
    expect(plain.code).toBe(0)
    expect(plain.stdout).not.toContain('Category:')
  })
})
