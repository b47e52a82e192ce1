/**
 * validate() against whatever JSON a client can send: random values (fast-check's jsonValue)
 * for every rule and mix of rules, whole random bodies, and objects whose keys are the ones
 * that break naive code (`toString`, `valueOf`, `__proto__`, `constructor`). The only error
 * ever thrown is a ValidationError, and what passes has the type its rules promise.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ValidationError, validate } from 'herald'

/** Every rule on its own, and the mixes an application writes. */
const RULES = [
  'required',
  'string',
  'email',
  'integer',
  'numeric',
  'boolean',
  'min:2',
  'max:3',
  'in:BOOK-1,MUG-2,1,true',
  'required|string|max:5',
  'required|email|max:120',
  'required|in:BOOK-1,MUG-2',
  'required|integer|min:1|max:10',
  'numeric|min:0.5|max:99.5',
  'min:1|integer',
  'boolean|required',
  'string|min:1|in:a,b',
]

/** Keys that name Object.prototype's machinery, or that a hand-written merge would follow. */
const ODD_KEYS = ['toString', 'valueOf', 'hasOwnProperty', 'toJSON', '__proto__', 'constructor', 'prototype', 'length', 'then']

/**
 * Objects with odd keys, built by JSON.parse as express.json builds them, so that `__proto__`
 * is a field of its own rather than the prototype.
 */
const oddObject: fc.Arbitrary<unknown> = fc
  .dictionary(fc.constantFrom(...ODD_KEYS), fc.oneof(fc.jsonValue(), fc.constant({ polluted: true })), { maxKeys: 4 })
  .map((entries) => JSON.parse(JSON.stringify(entries)) as unknown)
  .chain((odd) => fc.oneof(fc.constant(odd), fc.constant([odd]), fc.constant({ nested: odd })))

/** What a field of a JSON body can hold. */
const fieldValue = fc.oneof(fc.jsonValue(), oddObject, fc.string(), fc.integer().map(String), fc.double().map(String))

function expectOnlyValidationErrors(run: () => unknown): unknown {
  try {
    return run()
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    const errors = (error as ValidationError).errors
    expect(Object.keys(errors).length).toBeGreaterThan(0)
    for (const messages of Object.values(errors)) {
      expect(messages.length).toBeGreaterThan(0)
      for (const message of messages) expect(typeof message).toBe('string')
    }
    return undefined
  }
}

/** The type a passing value must have under a rule string. */
function expectTyped(value: unknown, spec: string): void {
  if (value === undefined) {
    expect(spec).not.toContain('required')
    return
  }
  const rules = spec.split('|')
  if (rules.includes('integer')) expect(Number.isSafeInteger(value)).toBe(true)
  else if (rules.includes('numeric')) expect(Number.isFinite(value)).toBe(true)
  else if (rules.includes('boolean')) expect(typeof value).toBe('boolean')
  else if (rules.includes('string') || rules.includes('email')) expect(typeof value).toBe('string')
  // Whatever the rules, a passing value is one value, never a list or an object.
  expect(['string', 'number', 'boolean']).toContain(typeof value)
  const choices = rules.find((rule) => rule.startsWith('in:'))
  if (choices !== undefined) expect(choices.slice(3).split(',')).toContain(String(value))
}

describe('validate() under random JSON', () => {
  it('throws nothing but ValidationError for any value of a field, under every rule, and types what passes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RULES), fieldValue, (spec, value) => {
        const result = expectOnlyValidationErrors(() => validate({ field: value }, { field: spec })) as Record<string, unknown> | undefined
        if (result === undefined) return
        expect(Object.keys(result).every((key) => key === 'field')).toBe(true)
        expectTyped(result.field, spec)
      }),
      { numRuns: 3_000 },
    )
  })

  it('throws nothing but ValidationError for any whole body, and keeps only the fields with rules', () => {
    const rules = { email: 'required|email', quantity: 'integer|min:1', note: 'string|max:5', gift: 'boolean', sku: 'in:A,B', toString: 'string', length: 'integer' }
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), oddObject, fc.dictionary(fc.constantFrom(...Object.keys(rules), ...ODD_KEYS), fieldValue)), (body) => {
        const result = expectOnlyValidationErrors(() => validate(body, rules)) as Record<string, unknown> | undefined
        if (result === undefined) return
        for (const key of Object.keys(result)) expect(Object.keys(rules)).toContain(key)
        expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
      }),
      { numRuns: 2_000 },
    )
  })

  it('leaves Object.prototype untouched whatever the keys', () => {
    fc.assert(
      fc.property(oddObject, (body) => {
        expectOnlyValidationErrors(() => validate(body, { toString: 'string', valueOf: 'integer', hasOwnProperty: 'boolean', then: 'in:a' }))
        expect(Object.prototype).not.toHaveProperty('polluted')
        expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString)
      }),
      { numRuns: 500 },
    )
  })
})
