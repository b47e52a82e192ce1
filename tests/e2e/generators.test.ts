import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyProject } from '../support/project-copy.ts'
import { run, artisan, created, tree } from '../support/cli-run.ts'

/** `event:list`'s text output as event → its listener lines. */
function listing(stdout: string): Map<string, string[]> {
  const events = new Map<string, string[]>()
  let current: string[] = []
  for (const line of stdout.split('\n').filter((text) => text !== '')) {
    if (line.startsWith(' ')) current.push(line.trim())
    else events.set(line, (current = []))
  }
  return events
}

const timeout = 240_000

describe('generated code compiles, passes its own tests and is discovered', () => {
  let copy: ReturnType<typeof copyProject>
  const generatedTests = [
    'tests/unit/events/admin/user-banned.test.ts',
    'tests/unit/events/order-shipped.test.ts',
    'tests/feature/listeners/send-shipment-notification.test.ts',
    'tests/feature/listeners/notify-moderators.test.ts',
    'tests/feature/listeners/audit-orders.test.ts',
    'tests/feature/listeners/reminder.test.ts',
    'tests/feature/order-flow.test.ts',
    'tests/unit/pricing.test.ts',
    'tests/unit/events/payments/refund-issued.test.ts',
  ]
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  it('generates events, listeners, a subscriber and tests, printing each file it creates', { timeout }, async () => {
    const steps: Array<[string[], string]> = [
      [
        ['make:event', 'Admin/UserBanned', '--broadcast', '--test'],
        created('app/events/admin/user-banned.ts', 'tests/unit/events/admin/user-banned.test.ts'),
      ],
      // The event does not exist yet, so the listener brings it (and, with --test, its test).
      [
        ['make:listener', 'SendShipmentNotification', '--event=OrderShipped', '--queued', '--test'],
        created(
          'app/events/order-shipped.ts',
          'tests/unit/events/order-shipped.test.ts',
          'app/listeners/send-shipment-notification.ts',
          'tests/feature/listeners/send-shipment-notification.test.ts',
        ),
      ],
      // An existing, nested event is imported, not generated again.
      [
        ['make:listener', 'NotifyModerators', '--event=Admin/UserBanned', '--test'],
        created('app/listeners/notify-moderators.ts', 'tests/feature/listeners/notify-moderators.test.ts'),
      ],
      [
        ['make:listener', 'AuditOrders', '--event=orders.*', '--test'],
        created('app/listeners/audit-orders.ts', 'tests/feature/listeners/audit-orders.test.ts'),
      ],
      [['make:listener', 'LogTaskCompletion', '--event=task.completed'], created('app/listeners/log-task-completion.ts')],
      [['make:listener', 'Reminder', '--test'], created('app/listeners/reminder.ts', 'tests/feature/listeners/reminder.test.ts')],
      [
        ['make:subscriber', 'OrderLifecycle', '--events=OrderShipped,task.completed'],
        created('app/subscribers/order-lifecycle.ts'),
      ],
      [['make:test', 'OrderFlowTest'], created('tests/feature/order-flow.test.ts')],
      [['make:test', 'Pricing', '--unit'], created('tests/unit/pricing.test.ts')],
      [
        ['make:event', 'payments/refund_issued', '--queued', '--test'],
        created('app/events/payments/refund-issued.ts', 'tests/unit/events/payments/refund-issued.test.ts'),
      ],
    ]
    for (const [args, stdout] of steps) {
      const result = await artisan(copy.root, ...args)
      expect({ args, ...result }).toEqual({ args, code: 0, stdout, stderr: '' })
    }

    const read = (path: string) => readFileSync(join(copy.root, path), 'utf8')
    expect(read('app/events/order-shipped.ts')).toContain('export class OrderShipped extends Dispatchable {')
    expect(read('app/events/admin/user-banned.ts')).toContain('export class UserBanned extends ShouldBroadcast(Dispatchable) {')
    expect(read('app/events/admin/user-banned.ts')).toContain("return new Channel('admin.user-banned')")
    expect(read('app/events/payments/refund-issued.ts')).toContain('export class RefundIssued extends ShouldQueue(Dispatchable) {')
    const listener = read('app/listeners/send-shipment-notification.ts')
    expect(listener).toContain("import { OrderShipped } from '../events/order-shipped.ts'")
    expect(listener).toContain('extends ShouldQueue(Listener.for(OrderShipped))')
    expect(listener).toContain('implements QueueOptions<OrderShipped>')
    expect(read('app/listeners/notify-moderators.ts')).toContain("import { UserBanned } from '../events/admin/user-banned.ts'")
    expect(read('app/listeners/reminder.ts')).toContain("extends Listener.for('reminder')")
    const subscriber = read('app/subscribers/order-lifecycle.ts')
    expect(subscriber).toContain("extends Subscriber.for(OrderShipped, 'task.completed')")
    expect(subscriber).toContain('handleOrderShipped(event: OrderShipped)')
    expect(subscriber).toContain("handleTaskCompleted(event: PayloadOf<'task.completed'>)")
  })

  it('the project, generated files included, type-checks', { timeout }, async () => {
    const result = await run(copy.root, join(copy.root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'])
    expect(result.stdout + result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('the generated tests pass unchanged', { timeout }, async () => {
    const report = join(copy.root, 'generated-tests.json')
    const result = await run(copy.root, join(copy.root, 'node_modules/.bin/vitest'), [
      'run',
      '--reporter=json',
      `--outputFile=${report}`,
      ...generatedTests,
    ])
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number
      numFailedTests: number
      testResults: Array<{ name: string; status: string }>
    }
    expect(json.testResults.map(({ name, status }) => [relative(copy.root, name), status]).sort()).toEqual(
      generatedTests.map((name) => [name, 'passed']).sort(),
    )
    expect({ passed: json.numPassedTests, failed: json.numFailedTests }).toEqual({ passed: 16, failed: 0 })
    expect(result.code).toBe(0)
  })

  it('event:list shows every generated listener under its event at once', { timeout }, async () => {
    const result = await artisan(copy.root, 'event:list')
    expect(result.stderr).toBe('')
    const events = listing(result.stdout)
    expect(events.get('OrderShipped')).toEqual(
      expect.arrayContaining(['⇂ SendShipmentNotification (queued)', '⇂ OrderLifecycle@handleOrderShipped']),
    )
    expect(events.get('UserBanned (broadcast)')).toContain('⇂ NotifyModerators')
    expect(events.get('task.completed')).toEqual(
      expect.arrayContaining(['⇂ LogTaskCompletion', '⇂ OrderLifecycle@handleTaskCompleted']),
    )
    expect(events.get('reminder')).toContain('⇂ Reminder')
    expect(events.get('orders.* (wildcard)')).toEqual(['⇂ AuditOrders'])
    expect(events.get('RefundIssued')).toBeDefined()
  })
})

describe('what a generator loads', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  it('make:listener loads commander and handlebars, and no engine, no TypeScript loader, no app code', { timeout }, async () => {
    const trace = join(copy.root, 'imports.txt')
    const result = await run(
      copy.root,
      process.execPath,
      ['--import', './tests/support/trace-imports.mjs', 'bin/artisan', 'make:listener', 'SendReceipt', '--event=OrderPlaced', '--queued', '--test'],
      { HERALD_TRACE_IMPORTS: trace },
    )
    expect(result.stdout).toBe(created('app/listeners/send-receipt.ts', 'tests/feature/listeners/send-receipt.test.ts'))
    const urls = readFileSync(trace, 'utf8').split('\n').filter((url) => url !== '')
    const packages = new Set(urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []))
    expect(packages.has('commander')).toBe(true)
    expect(packages.has('handlebars')).toBe(true)
    for (const name of ['bullmq', 'socket.io', 'knex', 'express', 'ioredis', 'tsx', 'esbuild']) {
      expect(packages.has(name), name).toBe(false)
    }
    expect(urls.filter((url) => url.includes('/app/') || url.includes('/config/'))).toEqual([])
  })
})

describe('existing files and --force', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  it('never overwrites without --force, writes nothing when any target exists, and overwrites with it', { timeout }, async () => {
    const path = join(copy.root, 'app/events/order-shipped.ts')
    expect(await artisan(copy.root, 'make:event', 'OrderShipped')).toEqual({
      code: 0,
      stdout: created('app/events/order-shipped.ts'),
      stderr: '',
    })
    const generated = readFileSync(path, 'utf8')
    writeFileSync(path, `${generated}// my own edit\n`)

    const again = await artisan(copy.root, 'make:event', 'order_shipped', '--test')
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: 'app/events/order-shipped.ts already exists: nothing was written; use --force to overwrite.\n',
    })
    expect(readFileSync(path, 'utf8')).toBe(`${generated}// my own edit\n`)
    expect(existsSync(join(copy.root, 'tests/unit/events/order-shipped.test.ts'))).toBe(false)

    const forced = await artisan(copy.root, 'make:event', 'OrderShipped', '--test', '--force')
    expect(forced).toEqual({
      code: 0,
      stdout: 'OVERWRITE app/events/order-shipped.ts\nCREATE tests/unit/events/order-shipped.test.ts\n',
      stderr: '',
    })
    expect(readFileSync(path, 'utf8')).toBe(generated)
  })

  it('checks every target of a multi-file command before writing any', { timeout }, async () => {
    const test = join(copy.root, 'tests/feature/listeners/ship-it.test.ts')
    const first = await artisan(copy.root, 'make:listener', 'ShipIt', '--event=ParcelSent', '--test')
    expect(first.code).toBe(0)
    unlinkSync(join(copy.root, 'app/listeners/ship-it.ts'))
    unlinkSync(join(copy.root, 'app/events/parcel-sent.ts'))
    writeFileSync(test, '// mine\n')

    const blocked = await artisan(copy.root, 'make:listener', 'ShipIt', '--event=ParcelSent', '--test')
    expect(blocked.code).toBe(1)
    expect(blocked.stderr).toBe(
      'tests/unit/events/parcel-sent.test.ts, tests/feature/listeners/ship-it.test.ts already exist: nothing was written; use --force to overwrite.\n',
    )
    expect(existsSync(join(copy.root, 'app/listeners/ship-it.ts'))).toBe(false)
    expect(existsSync(join(copy.root, 'app/events/parcel-sent.ts'))).toBe(false)
    expect(readFileSync(test, 'utf8')).toBe('// mine\n')
  })
})

describe('rejected names', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  it('exit 1 with one line on stderr naming the problem, and write nothing', { timeout }, async () => {
    const cases: Array<[string[], string]> = [
      [['make:event', ''], 'Invalid name "": the name is empty; give one like OrderShipped.'],
      [['make:event', '9lives'], 'Invalid name "9lives": "9lives" is not an identifier;'],
      [['make:listener', 'order-$hip'], 'Invalid name "order-$hip": "order-$hip" is not an identifier;'],
      [['make:event', 'class'], 'Invalid name "class": "class" is a reserved word in TypeScript;'],
      [['make:subscriber', 'Delete'], 'Invalid name "Delete": "delete" is a reserved word in TypeScript;'],
      [['make:event', '/tmp/OrderShipped'], 'Invalid name "/tmp/OrderShipped": it is an absolute path;'],
      [['make:test', '../../outside'], 'Invalid name "../../outside": "." and ".." segments are not allowed;'],
      [['make:event', 'Admin/../../../Evil'], 'Invalid name "Admin/../../../Evil": "." and ".." segments are not allowed;'],
      [['make:event', 'Admin\\Evil'], 'Invalid name "Admin\\Evil": it contains a backslash;'],
      [['make:event', 'Listener'], 'Invalid name "Listener": "Listener" is a name Herald\'s generated code imports;'],
      [['make:listener', 'Fine', '--event=../Evil'], 'Invalid name "../Evil": "." and ".." segments are not allowed;'],
      [['make:listener', 'Fine', "--event=order.'shipped"], 'Invalid event name "order.\'shipped":'],
      [['make:listener', 'OrderPlaced', '--event=OrderPlaced'], 'The listener and its event are both named OrderPlaced:'],
      [['make:subscriber', 'Fine', '--events=OrderPlaced,Missing'], 'Event class Missing was not found in app/events/: run make:event Missing first.'],
      [['make:subscriber', 'Fine', '--events=orders.*'], 'A subscriber routes events to methods by name, so "orders.*" cannot be one:'],
    ]
    const before = tree(copy.root)
    const results = await Promise.all(cases.map(([args]) => artisan(copy.root, ...args)))
    results.forEach((result, index) => {
      const [args, reason] = cases[index]!
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 1, stdout: '' })
      expect(result.stderr.startsWith(reason), `${args.join(' ')} → ${result.stderr}`).toBe(true)
      expect(result.stderr).toMatch(/^[^\n]+\n$/)
    })
    expect(tree(copy.root)).toEqual(before)
  })
})

describe('stubs', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())
  const stubNames = [
    'event',
    'event.broadcast',
    'listener',
    'listener.typed',
    'listener.queued',
    'subscriber',
    'test',
    'test.unit',
    'test.event',
    'test.listener',
    'test.subscriber',
    'job',
    'job.sync',
    'test.job',
    'command',
    'test.command',
  ]
  const stub = (name: string) => join(copy.root, 'stubs', `${name}.stub`)
  const framework = (name: string) => readFileSync(join(copy.root, 'src/console/stubs', `${name}.stub`), 'utf8')

  it('stub:publish copies the defaults, then skips identical and edited ones, restores missing ones, and --force overwrites', { timeout }, async () => {
    const first = await artisan(copy.root, 'stub:publish')
    expect(first).toEqual({ code: 0, stdout: created(...stubNames.map((name) => `stubs/${name}.stub`)), stderr: '' })
    for (const name of stubNames) expect(readFileSync(stub(name), 'utf8')).toBe(framework(name))

    const edited = `${framework('event')}// edited\n`
    writeFileSync(stub('event'), edited)
    unlinkSync(stub('subscriber'))
    const second = await artisan(copy.root, 'stub:publish')
    expect(second.code).toBe(0)
    const lines = second.stdout.split('\n')
    expect(lines).toContain('SKIP stubs/event.stub (edited; use --force to overwrite it)')
    expect(lines).toContain('SKIP stubs/listener.stub (identical to the default)')
    expect(lines).toContain('CREATE stubs/subscriber.stub')
    expect(lines.filter((line) => line.startsWith('SKIP stubs/') && line.endsWith('(identical to the default)'))).toHaveLength(stubNames.length - 2)
    expect(readFileSync(stub('event'), 'utf8')).toBe(edited)
    expect(readFileSync(stub('subscriber'), 'utf8')).toBe(framework('subscriber'))

    const forced = await artisan(copy.root, 'stub:publish', '--force')
    expect(forced.stdout.split('\n')).toContain('OVERWRITE stubs/event.stub')
    expect(readFileSync(stub('event'), 'utf8')).toBe(framework('event'))
  })

  it('an edited stub changes the output: its to: path and its body', { timeout }, async () => {
    writeFileSync(
      stub('event'),
      framework('event')
        .replace('to: app/events/{{ path }}.ts', 'to: app/domain/{{ folder }}/events/{{ fileName }}.ts')
        .replace('export class', '// Our convention for {{ class }}.\nexport class'),
    )
    const result = await artisan(copy.root, 'make:event', 'Billing/InvoicePaid')
    expect(result).toEqual({ code: 0, stdout: created('app/domain/billing/events/invoice-paid.ts'), stderr: '' })
    expect(readFileSync(join(copy.root, 'app/domain/billing/events/invoice-paid.ts'), 'utf8')).toContain(
      '// Our convention for InvoicePaid.\nexport class InvoicePaid extends Dispatchable {',
    )

    // A listener finds the event where the edited stub puts it, and imports it from there.
    const listener = await artisan(copy.root, 'make:listener', 'EmailInvoice', '--event=Billing/InvoicePaid')
    expect(listener.stdout).toBe(created('app/listeners/email-invoice.ts'))
    expect(readFileSync(join(copy.root, 'app/listeners/email-invoice.ts'), 'utf8')).toContain(
      "import { InvoicePaid } from '../domain/billing/events/invoice-paid.ts'",
    )
  })

  it('a stub whose to: leaves app/ and tests/ is refused, and one with an unknown variable names the line', { timeout }, async () => {
    const before = tree(copy.root)
    writeFileSync(stub('listener.typed'), framework('listener.typed').replace('to: app/listeners/', 'to: app/../../'))
    writeFileSync(stub('test.unit'), framework('test.unit').replace('to: tests/unit/', 'to: config/'))
    const misspelt = framework('test').replace("describe('{{ class }}'", "describe('{{ klass }}'")
    writeFileSync(stub('test'), misspelt)
    const line = misspelt.split('\n').findIndex((text) => text.includes('klass')) + 1
    const [escaping, config, unknown] = await Promise.all([
      artisan(copy.root, 'make:listener', 'Escaper', '--event=OrderPlaced'),
      artisan(copy.root, 'make:test', 'Configured', '--unit'),
      artisan(copy.root, 'make:test', 'Misspelt'),
    ])
    expect(escaping).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'stubs/listener.typed.stub writes to "app/../../escaper.ts" (outside those folders); generators only write inside app/ and tests/.\n',
    })
    expect(config).toEqual({
      code: 1,
      stdout: '',
      stderr: 'stubs/test.unit.stub writes to "config/configured.test.ts" (outside those folders); generators only write inside app/ and tests/.\n',
    })
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(new RegExp(`^stubs/test\\.stub:${line}: "klass" is not a variable of this stub \\(it has [^\\n]*\\)\\.\\n$`))
    expect(line).toBeGreaterThan(3)
    expect(existsSync(join(dirname(copy.root), 'escaper.ts'))).toBe(false)
    expect(existsSync(join(copy.root, 'config/configured.test.ts'))).toBe(false)
    expect(tree(copy.root)).toEqual(
      new Map([...before, ...['listener.typed', 'test.unit', 'test'].map((name) => [`stubs/${name}.stub`, readFileSync(stub(name), 'utf8')] as const)]),
    )
  })
})
