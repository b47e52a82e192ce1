import { describe, expect, it } from 'vitest'
import { Env } from '../../src/foundation/env.ts'
import { defaultEventsConfig } from '../../src/foundation/events-config.ts'

describe('events.store config', () => {
  const store = (env: Record<string, string>) => defaultEventsConfig(new Env(env)).store

  it('has no retention unless EVENTS_STORE_RETENTION_DAYS is set', () => {
    expect(store({})).toEqual({ enabled: false, table: 'stored_events', connection: null, retention: null })
    expect(store({ EVENTS_STORE_RETENTION_DAYS: '' }).retention).toBeNull()
    expect(store({ EVENTS_STORE_RETENTION_DAYS: '90' }).retention).toBe(90)
  })

  it('refuses a retention that is not a whole number of days from 1', () => {
    for (const bad of ['0', '1.5', '-3', 'ninety']) {
      expect(() => store({ EVENTS_STORE_RETENTION_DAYS: bad })).toThrow(/EVENTS_STORE_RETENTION_DAYS must be/)
    }
  })
})
