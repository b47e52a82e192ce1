import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest'
import { ValidationError, validate } from 'herald'
import { ViewFactory } from '../../src/http/views.ts'

describe('validate()', () => {
  const rules = { email: 'required|email', quantity: 'required|integer|min:1|max:10', note: 'string|max:5', gift: 'boolean', sku: 'in:A,B' } as const

  it('converts and types what passes: numbers, booleans, trimmed strings; absent optionals left out', () => {
    const data = validate({ email: ' ada@example.test ', quantity: '3', gift: 'on', extra: 'dropped' }, rules)
    expect(data).toEqual({ email: 'ada@example.test', quantity: 3, gift: true })
    expectTypeOf(data.quantity).toEqualTypeOf<number>()
    expectTypeOf(data.email).toEqualTypeOf<string>()
    expectTypeOf(data.note).toEqualTypeOf<string | undefined>()
    expectTypeOf(data.gift).toEqualTypeOf<boolean>()
    expect(validate({ email: 'a@b.co', quantity: 1 }, rules).gift).toBe(false)
  })

  it("collects every field's messages, Laravel's wording, in a 422 ValidationError", () => {
    let caught: unknown
    try {
      validate({ email: 'nope', quantity: '0', note: 'too long', gift: 'maybe', sku: 'C' }, rules)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ValidationError)
    const error = caught as ValidationError
    expect(error.status).toBe(422)
    expect(error.errors).toEqual({
      email: ['The email field must be a valid email address.'],
      quantity: ['The quantity field must be at least 1.'],
      note: ['The note field must not be greater than 5 characters.'],
      gift: ['The gift field must be true or false.'],
      sku: ['The selected sku is invalid.'],
    })
    expect(error.message).toBe('The email field must be a valid email address. (and 4 more errors)')
    expect(() => validate({}, { quantity: 'required|integer' })).toThrow('The quantity field is required.')
    expect(() => validate({ quantity: '2.5' }, { quantity: 'integer' })).toThrow('The quantity field must be an integer.')
  })

  it('refuses a rule it does not know, naming it', () => {
    expect(() => validate({ a: '1' }, { a: 'uuid' })).toThrow('Unknown validation rule "uuid" for a.')
  })
})

describe('ViewFactory', () => {
  const root = mkdtempSync(join(tmpdir(), 'herald-views-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  mkdirSync(join(root, 'layouts'))
  mkdirSync(join(root, 'partials', 'cards'), { recursive: true })
  writeFileSync(join(root, 'layouts', 'app.hbs'), '<main>{{{body}}}</main>')
  writeFileSync(join(root, 'layouts', 'bare.hbs'), '[{{{body}}}]')
  writeFileSync(join(root, 'partials', 'cards', 'title.hbs'), '<h1>{{title}}</h1>')
  writeFileSync(join(root, 'page.hbs'), '{{> cards/title}}<p>{{text}}</p><script>let data = {{json data}}</script>')

  it('renders a page inside layouts/app.hbs with its partials, escaping text', () => {
    const views = new ViewFactory({ root, cache: true })
    expect(views.render('page', { title: 'Orders', text: '<b>', data: { tag: '</script>' } })).toBe(
      '<main><h1>Orders</h1><p>&lt;b&gt;</p><script>let data = {"tag":"\\u003c/script>"}</script></main>',
    )
  })

  it('takes another layout, or none, per render', () => {
    const views = new ViewFactory({ root, cache: false })
    expect(views.render('page', { layout: 'bare', title: 'T' })).toMatch(/^\[<h1>T<\/h1>/)
    expect(views.render('page', { layout: false, title: 'T' })).toMatch(/^<h1>T<\/h1>/)
  })

  it('names the missing file of an unknown view', () => {
    expect(() => new ViewFactory({ root, cache: false }).render('nope')).toThrow(`View "nope" not found: there is no ${join(root, 'nope.hbs')}.`)
  })
})
