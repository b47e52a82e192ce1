/**
 * Validation attacks that used to work (issue 11, problem 4): an object whose `toString` is
 * null made POST /api/orders a 500 with a stack, `in:` took a list holding a choice, `integer`
 * took `"1e1"` and `"0x0A"`. Each case directly against validate(), then over real HTTP against
 * the demo's kernel (SQLite, nothing mocked): a 422 with the field's message, nothing written;
 * and a body over the size bound is a 413 JSON error.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { bootApplication, createMigrator, ValidationError, validate, type Application, type Knex } from 'herald'
import { createApplicationHttpKernel } from '../../src/http/http-kernel.ts'
import { orderRules } from '../../app/services/orders.ts'
import { inventory } from '../../app/services/inventory.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

/** The field errors validate() throws for `input`; fails the test if it passes or throws anything else. */
function errorsOf(input: unknown, rules: Record<string, string>): Record<string, string[]> {
  try {
    validate(input, rules)
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as ValidationError).errors
  }
  throw new Error(`validate() passed ${JSON.stringify(input)}`)
}

describe('validate(): the reported cases', () => {
  it('fails an object whose toString is null with the field message, instead of throwing a TypeError', () => {
    const body = JSON.parse('{"email":"ada@example.test","sku":{"toString":null},"quantity":1}') as unknown
    expect(errorsOf(body, orderRules)).toEqual({ sku: ['The selected sku is invalid.'] })
    expect(errorsOf({ note: { toString: null, valueOf: null } }, { note: 'string|max:5' })).toEqual({ note: ['The note field must be a string.'] })
    expect(errorsOf({ quantity: { valueOf: null } }, { quantity: 'integer|min:1' })).toEqual({ quantity: ['The quantity field must be an integer.'] })
    expect(errorsOf({ note: { toString: null } }, { note: 'required' })).toEqual({ note: ['The note field must be a single value, not a list or an object.'] })
    expect(errorsOf({ note: [] }, { note: 'max:5' })).toEqual({ note: ['The note field must be a single value, not a list or an object.'] })
  })

  it('compares one value for in:, so a list holding a choice is not that choice', () => {
    expect(errorsOf({ email: 'a@b.test', sku: ['BOOK-1'], quantity: 1 }, orderRules)).toEqual({ sku: ['The selected sku is invalid.'] })
    expect(errorsOf({ sku: [['BOOK-1']] }, { sku: 'in:BOOK-1' })).toEqual({ sku: ['The selected sku is invalid.'] })
    expect(validate({ sku: ' BOOK-1 ' }, { sku: 'in:BOOK-1' })).toEqual({ sku: 'BOOK-1' })
  })

  it('takes only decimal integer text or safe integer numbers for integer', () => {
    for (const text of ['1e1', '0x0A', '0b11', '0o7', '1_000', '1.0', '2.5', 'Infinity', '-', '+', '1 2', '٣', '9007199254740993', '12345678901234567890'])
      expect(errorsOf({ n: text }, { n: 'integer' }), text).toEqual({ n: ['The n field must be an integer.'] })
    for (const number of [2.5, 1e21, Number.MAX_SAFE_INTEGER + 2, true, false])
      expect(errorsOf({ n: number }, { n: 'integer' }), String(number)).toEqual({ n: ['The n field must be an integer.'] })
    expect(validate({ a: '10', b: '+5', c: '-3', d: ' 7 ', e: 42, f: '-0', g: '007' }, { a: 'integer', b: 'integer', c: 'integer', d: 'integer', e: 'integer', f: 'integer', g: 'integer' })).toEqual({
      a: 10,
      b: 5,
      c: -3,
      d: 7,
      e: 42,
      f: 0,
      g: 7,
    })
  })

  it('takes only decimal number text or finite numbers for numeric', () => {
    for (const text of ['0x0A', '0b11', '1_000', 'Infinity', '-Infinity', 'NaN', '1e400', '1.2.3', '.', 'e5', '1e'])
      expect(errorsOf({ n: text }, { n: 'numeric' }), text).toEqual({ n: ['The n field must be a number.'] })
    expect(validate({ a: '2.5', b: '-.5', c: '1e1', d: '+3.', e: 0.25 }, { a: 'numeric', b: 'numeric', c: 'numeric', d: 'numeric', e: 'numeric' })).toEqual({ a: 2.5, b: -0.5, c: 10, d: 3, e: 0.25 })
  })

  it('keeps __proto__ and constructor out of the result and away from Object.prototype', () => {
    const body = JSON.parse('{"email":"a@b.test","__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}') as unknown
    const result = validate(body, { email: 'required|email' })
    expect(Object.keys(result)).toEqual(['email'])
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
    expect((result as Record<string, unknown>).admin).toBeUndefined()
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
    // A rule for a field the input lacks reads the input's own fields, not what it inherits.
    expect(validate({}, { toString: 'string', valueOf: 'integer' })).toEqual({})
    expect(() => validate({}, { ['__proto__']: 'string' })).toThrow('Validation rules cannot name the field "__proto__"')
  })

  it('refuses a very long dotted email at once instead of backtracking over it', () => {
    const started = performance.now()
    expect(errorsOf({ email: `a@${'a.'.repeat(45_000)}@` }, { email: 'required|email' })).toEqual({ email: ['The email field must be a valid email address.'] })
    // The unbounded regex took seconds on this input; the bounded check takes microseconds.
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('names a malformed min:/max: argument, the rules author’s mistake', () => {
    expect(() => validate({ a: '1' }, { a: 'min:ten' })).toThrow('Validation rule "min:ten" for a needs a number, as in "min:10".')
  })
})

describe('POST /api/orders over HTTP', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  let database: FreshDatabase
  let app: Application
  let base: string
  let db: Knex

  beforeAll(async () => {
    database = await freshDatabase('sqlite')
    const filename = (database.connection as { filename: string }).filename
    app = await bootApplication({
      basePath: root,
      envFile: false,
      env: { LOG_LEVEL: 'silent', DB_DATABASE: filename, QUEUE_CONNECTION: 'database', BROADCAST_CONNECTION: 'null' },
    })
    await (await createMigrator(app)).latest()
    const kernel = await createApplicationHttpKernel(app)
    base = `http://127.0.0.1:${(await kernel.listen(0, '127.0.0.1')).port}`
    db = await app.make('db').connection()
  })
  afterAll(async () => {
    await app?.shutdown()
    await database?.drop()
  })
  beforeEach(() => {
    inventory.set('BOOK-1', 100)
  })

  const post = (body: string) => fetch(`${base}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body })
  const orders = async () => Number(((await db('orders').count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n)

  it('answers {"sku":{"toString":null}} with 422 and the field errors, not a 500', async () => {
    const response = await post('{"sku":{"toString":null}}')
    expect(response.status).toBe(422)
    expect(((await response.json()) as { errors: unknown }).errors).toEqual({
      email: ['The email field is required.'],
      sku: ['The selected sku is invalid.'],
      quantity: ['The quantity field is required.'],
    })
    expect(await orders()).toBe(0)
  })

  it('answers a list for sku and "1e1" or "0x0A" for quantity with 422', async () => {
    const list = await post(JSON.stringify({ email: 'a@b.test', sku: ['BOOK-1'], quantity: 1 }))
    expect(list.status).toBe(422)
    expect(((await list.json()) as { errors: unknown }).errors).toEqual({ sku: ['The selected sku is invalid.'] })
    for (const quantity of ['1e1', '0x0A']) {
      const response = await post(JSON.stringify({ email: 'a@b.test', sku: 'BOOK-1', quantity }))
      expect(response.status).toBe(422)
      expect(((await response.json()) as { errors: unknown }).errors).toEqual({ quantity: ['The quantity field must be an integer.'] })
    }
    expect(await orders()).toBe(0)
    // The same order with a real integer goes through.
    expect((await post(JSON.stringify({ email: 'a@b.test', sku: 'BOOK-1', quantity: '2' }))).status).toBe(201)
    expect(await orders()).toBe(1)
    await db('orders').delete()
  })

  it('refuses a body over 100kb with a 413 JSON error, and malformed JSON with a 400 that echoes nothing', async () => {
    const big = await post(JSON.stringify({ email: 'a@b.test', sku: 'BOOK-1', quantity: 1, note: 'x'.repeat(110 * 1024) }))
    expect(big.status).toBe(413)
    expect(await big.json()).toEqual({ message: 'The request body is larger than 100kb.' })
    const malformed = await post('{"email": secret-typed-here')
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toEqual({ message: 'The request body is not valid JSON.' })
    expect(await orders()).toBe(0)
  })
})
