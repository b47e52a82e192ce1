import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyProject } from '../support/project-copy.ts'
import { run, artisan, created, vitest } from '../support/cli-run.ts'

const timeout = 240_000

describe('make:subscriber --test', () => {
  let copy: ReturnType<typeof copyProject>
  const routedTest = 'tests/feature/subscribers/order-lifecycle.test.ts'
  const plainTest = 'tests/feature/subscribers/auditing.test.ts'
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  it('writes the subscriber and its feature test', { timeout }, async () => {
    expect(await artisan(copy.root, 'make:subscriber', 'OrderLifecycle', '--events', 'OrderPlaced', 'task.completed', '--test')).toEqual({
      code: 0,
      stdout: created('app/subscribers/order-lifecycle.ts', routedTest),
      stderr: '',
    })
    expect(await artisan(copy.root, 'make:subscriber', 'Auditing', '--test')).toEqual({
      code: 0,
      stdout: created('app/subscribers/auditing.ts', plainTest),
      stderr: '',
    })
    const test = readFileSync(join(copy.root, routedTest), 'utf8')
    expect(test).toContain("import OrderLifecycle from '../../../app/subscribers/order-lifecycle.ts'")
    expect(test).toContain("import { OrderPlaced } from '../../../app/events/order-placed.ts'")
    expect(test).toContain('fake.assertListening(OrderPlaced, OrderLifecycle)')
    expect(test).toContain("fake.assertListening('task.completed', OrderLifecycle)")
  })

  it('the project, generated files included, type-checks', { timeout }, async () => {
    const result = await run(copy.root, join(copy.root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'])
    expect(result.stdout + result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('the generated tests pass unchanged, and fail when a routed method stops the event', { timeout }, async () => {
    const passing = await vitest(copy.root, [routedTest, plainTest])
    expect(passing.testResults.map(({ name, status }) => [relative(copy.root, name), status]).sort()).toEqual([
      [plainTest, 'passed'],
      [routedTest, 'passed'],
    ])
    expect({ passed: passing.numPassedTests, failed: passing.numFailedTests, code: passing.code }).toEqual({ passed: 5, failed: 0, code: 0 })

    // The generated test checks something: a method that returns false (stopping the other
    // listeners) fails its route's test, and only that one.
    const file = join(copy.root, 'app/subscribers/order-lifecycle.ts')
    const source = readFileSync(file, 'utf8')
    expect(source).toContain('// Runs for task.completed.')
    writeFileSync(file, source.replace('// Runs for task.completed.', 'return false'))
    const failing = await vitest(copy.root, [routedTest])
    const failed = failing.testResults.flatMap(({ assertionResults }) => assertionResults.filter(({ status }) => status === 'failed').map(({ title }) => title))
    expect(failed).toEqual(['routes task.completed to handleTaskCompleted()'])
    expect(failing.code).not.toBe(0)
  })
})

describe('make:subscriber --events', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())
  const file = () => readFileSync(join(copy.root, 'app/subscribers/order-lifecycle.ts'), 'utf8')
  /** app/subscribers, file → content: what a refused command must leave as it was. */
  const subscribers = () =>
    new Map(readdirSync(join(copy.root, 'app/subscribers')).map((name) => [name, readFileSync(join(copy.root, 'app/subscribers', name), 'utf8')]))

  it('takes the events apart, with commas, or both, and gives the same subscriber', { timeout }, async () => {
    const forms = [
      ['--events=OrderPlaced,task.completed,user.signed-up'],
      ['--events', 'OrderPlaced', 'task.completed', 'user.signed-up'],
      ['--events', 'OrderPlaced,task.completed', 'user.signed-up'],
      ['--events', ' OrderPlaced ', 'task.completed , user.signed-up'],
    ]
    const sources: string[] = []
    for (const [index, form] of forms.entries()) {
      const result = await artisan(copy.root, 'make:subscriber', 'OrderLifecycle', ...form, ...(index > 0 ? ['--force'] : []))
      expect({ form, ...result }).toEqual({
        form,
        code: 0,
        stdout: `${index > 0 ? 'OVERWRITE' : 'CREATE'} app/subscribers/order-lifecycle.ts\n`,
        stderr: '',
      })
      sources.push(file())
    }
    expect(sources[0]).toContain("extends Subscriber.for(OrderPlaced, 'task.completed', 'user.signed-up')")
    expect(sources[0]).toContain('handleUserSignedUp(event: PayloadOf<\'user.signed-up\'>)')
    expect(new Set(sources).size).toBe(1)
  })

  it('refuses an empty item, an empty list, odd names and a swallowed name, writing nothing', { timeout }, async () => {
    const before = subscribers()
    const cases: Array<[string[], string]> = [
      [['--events=OrderPlaced,,task.completed'], '--events has an empty item ("OrderPlaced,,task.completed"): list events like --events OrderShipped task.completed.'],
      [['--events', 'OrderPlaced', ''], '--events has an empty item ("OrderPlaced" ""): list events like --events OrderShipped task.completed.'],
      [['--events', 'OrderPlaced,'], '--events has an empty item ("OrderPlaced,"): list events like --events OrderShipped task.completed.'],
      [['--events', ',', ' '], '--events is empty: list events like --events OrderShipped task.completed.'],
      [['--events', 'task completed'], 'Invalid event name "task completed": string events use letters, digits and . _ - : * (e.g. order.shipped, orders.*).'],
      [['--events', "task.'done\n"], 'Invalid event name "task.\'done": string events use letters, digits and . _ - : * (e.g. order.shipped, orders.*).'],
      [['--events', 'OrderPlaced', 'OrderPlaced'], '"OrderPlaced" and "OrderPlaced" would both be routed to handleOrderPlaced(): list each event once.'],
      [['--events', ...Array.from({ length: 101 }, (_, i) => `e.n${i}`)], '--events lists 101 events: a subscriber takes at most 100.'],
    ]
    const results = await Promise.all(cases.map(([args]) => artisan(copy.root, 'make:subscriber', 'Other', ...args, '--force')))
    results.forEach((result, index) => {
      const [args, message] = cases[index]!
      expect({ args, ...result }).toEqual({ args, code: 1, stdout: '', stderr: `${message}\n` })
    })
    // A variadic option takes every word after it: the name must come first.
    const swallowed = await artisan(copy.root, 'make:subscriber', '--events', 'OrderPlaced', 'Other')
    expect(swallowed.code).toBe(1)
    expect(swallowed.stderr).toMatch(/^error: missing required argument 'name'/)
    const missing = await artisan(copy.root, 'make:subscriber', 'Other', '--events')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^error: option '--events <events\.\.\.>' argument missing/)
    expect(subscribers()).toEqual(before)
    expect(existsSync(join(copy.root, 'app/subscribers/other.ts'))).toBe(false)
  })
})
