/**
 * The `events.redact` rules themselves (src/events/redaction.ts): a key rule matches however an
 * application spells the key, paths and regexes keep working, the mask is configurable
 * (EVENTS_REDACT_MASK), and the values under masked keys are found inside error text too.
 */
import { describe, expect, it } from 'vitest'
import { Env, REDACTED, createRedactor, defaultEventsConfig, normalizeKey } from 'herald'

describe('key rules match case- and separator-insensitively', () => {
  it('normalises a key once: lower case, no _ - or spaces', () => {
    expect(['apiKey', 'api_key', 'API-KEY', 'Api Key', 'APIKEY', 'api-key'].map(normalizeKey)).toEqual(Array(6).fill('apikey'))
    expect(normalizeKey('accessToken')).toBe(normalizeKey('access_token'))
  })

  it('masks every spelling of a rule, at any depth, in objects and Maps', () => {
    const redact = createRedactor(['api_key', 'access_token'])
    const output = redact({
      apiKey: 'a',
      'API-KEY': 'b',
      api_key: 'c',
      nested: { ApiKey: 'd', list: [{ 'access-token': 'e' }, { accessToken: 'f' }] },
      headers: new Map([['X-Api-Key', 'g'], ['API_KEY', 'h']]),
      apiKeys: 'not the same key',
      keyApi: 'nor this',
    })
    expect(output).toEqual({
      apiKey: REDACTED,
      'API-KEY': REDACTED,
      api_key: REDACTED,
      nested: { ApiKey: REDACTED, list: [{ 'access-token': REDACTED }, { accessToken: REDACTED }] },
      // `X-Api-Key` is another key (xapikey): a rule names keys whole, never a part of one.
      headers: new Map([['X-Api-Key', 'g'], ['API_KEY', REDACTED]]),
      apiKeys: 'not the same key',
      keyApi: 'nor this',
    })
  })

  it('matches a rule spelled any way too (`API-KEY`, `accessToken` as rules)', () => {
    const redact = createRedactor(['API-KEY', 'accessToken'])
    expect(redact({ api_key: 1, access_token: 2, other: 3 })).toEqual({ api_key: REDACTED, access_token: REDACTED, other: 3 })
  })

  it('matches dotted paths segment by segment the same way, from the root only', () => {
    const redact = createRedactor(['card.card_number', 'billing.api_key'])
    expect(
      redact({
        card: { cardNumber: '4242', holder: 'Ada' },
        Billing: { 'API-KEY': 'k' },
        other: { card: { cardNumber: 'kept: not from the root' } },
        items: [{ card: { card_number: 'kept' } }],
      }),
    ).toEqual({
      card: { cardNumber: REDACTED, holder: 'Ada' },
      Billing: { 'API-KEY': REDACTED },
      other: { card: { cardNumber: 'kept: not from the root' } },
      items: [{ card: { card_number: 'kept' } }],
    })
  })

  it('keeps regex rules as written, against the raw key and the raw path', () => {
    const redact = createRedactor([/^card_/, /^user\.ssn$/, /secret/gi])
    const output = redact({ card_cvv: '123', cardCvv: 'kept: the regex says card_', user: { ssn: '078-05-1120' }, ssn: 'kept', topSecret: 'x', again: { SECRET: 'y' } })
    expect(output).toEqual({ card_cvv: REDACTED, cardCvv: 'kept: the regex says card_', user: { ssn: REDACTED }, ssn: 'kept', topSecret: REDACTED, again: { SECRET: REDACTED } })
    // A global regex's lastIndex does not make the second call differ.
    expect(redact({ topSecret: 'x' })).toEqual({ topSecret: REDACTED })
  })

  it('masks a whole subtree under a masked key, and keeps classes and the original intact', () => {
    class Headers {
      constructor(readonly authorization: { scheme: string; token: string }) {}
    }
    const input = { headers: new Headers({ scheme: 'Bearer', token: 't' }), at: new Date(0) }
    const output = createRedactor(['authorization'])(input)
    expect(output.headers).toBeInstanceOf(Headers)
    expect(output.headers.authorization).toBe(REDACTED)
    expect(output.at).toBe(input.at)
    expect(input.headers.authorization.token).toBe('t')
  })

  it('stays correct past its key cache (keys from outside cannot grow it without bound)', () => {
    const redact = createRedactor(['password'])
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`field${i}`, i]))
    expect(redact({ ...many, Password: 'p' })).toEqual({ ...many, Password: REDACTED })
    expect(redact({ pass_word: 'p' })).toEqual({ pass_word: REDACTED })
  })
})

describe('the mask', () => {
  it('is [REDACTED] by default and configurable', () => {
    expect(createRedactor(['password'])({ password: 'x' })).toEqual({ password: '[REDACTED]' })
    const redact = createRedactor(['password'], { mask: '***' })
    expect(redact.mask).toBe('***')
    expect(redact({ password: 'x', list: [{ password: 'y' }] })).toEqual({ password: '***', list: [{ password: '***' }] })
  })

  it('comes from EVENTS_REDACT_MASK, and the default rules cover the usual secrets', () => {
    const config = defaultEventsConfig(new Env({ EVENTS_REDACT_MASK: '<secret>' }))
    expect(config.redactMask).toBe('<secret>')
    expect(defaultEventsConfig(new Env({})).redactMask).toBe('[REDACTED]')
    const redact = createRedactor(config.redact, { mask: config.redactMask })
    expect(
      redact({ password: 1, passwordConfirmation: 2, apiKey: 3, accessToken: 4, refresh_token: 5, clientSecret: 6, Authorization: 7, Cookie: 8, token: 9, email: 'kept' }),
    ).toEqual({
      password: '<secret>',
      passwordConfirmation: '<secret>',
      apiKey: '<secret>',
      accessToken: '<secret>',
      refresh_token: '<secret>',
      clientSecret: '<secret>',
      Authorization: '<secret>',
      Cookie: '<secret>',
      token: '<secret>',
      email: 'kept',
    })
  })
})

describe('masked values inside text (error messages)', () => {
  const redact = createRedactor(['card_number', 'apiKey', 'pin'], { mask: '[X]' })
  const event = { orderId: 42, cardNumber: '4242424242424242', credentials: { API_KEY: { live: 'sk_live_"quoted"' } }, pin: '12' }

  it('finds every leaf under a masked key, longest first, leaving out values too short to search for', () => {
    expect(redact.secretsOf(event)).toEqual(['sk_live_\\"quoted\\"', '4242424242424242', 'sk_live_"quoted"'])
  })

  it('masks them in text, as written and as JSON quotes them', () => {
    const text = `Card 4242424242424242 declined for order 42 with key sk_live_"quoted"; payload ${JSON.stringify(event)}`
    const masked = redact.redactText(text, event)
    expect(masked).toContain('Card [X] declined for order 42 with key [X];')
    expect(masked).not.toContain('4242424242424242')
    expect(masked).not.toContain('sk_live_')
  })

  it('gives a masked copy of an error (same class, name, properties); the original and a clean error untouched', () => {
    class Declined extends Error {
      override readonly name = 'Declined'
      readonly code = 'card_declined'
    }
    const error = new Declined('Card 4242424242424242 declined')
    const masked = redact.redactError(error, event)
    expect(masked).not.toBe(error)
    expect(masked).toBeInstanceOf(Declined)
    expect(masked.name).toBe('Declined')
    expect(masked.code).toBe('card_declined')
    expect(masked.message).toBe('Card [X] declined')
    expect(masked.stack).toContain('Declined: Card [X] declined')
    expect(masked.stack).not.toContain('4242')
    expect(error.message).toBe('Card 4242424242424242 declined')
    const clean = new Error('order 42 failed')
    expect(redact.redactError(clean, event)).toBe(clean)
    expect(redact.redactError('Card 4242424242424242', event)).toBe('Card [X]')
  })

  it('is a no-op without rules', () => {
    const none = createRedactor([])
    const error = new Error('x 4242424242424242')
    expect(none.redactError(error, event)).toBe(error)
    expect(none.redactText('4242424242424242', event)).toBe('4242424242424242')
    expect(none.secretsOf(event)).toEqual([])
  })
})
