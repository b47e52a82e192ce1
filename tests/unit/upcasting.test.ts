import { describe, expect, it } from 'vitest'
import { eventVersionOf, upcastFields, type Upcasters } from '../../src/events/store/upcasting.ts'

describe('upcasting', () => {
  class Renamed {
    static readonly version = 3
    static readonly upcast: Upcasters = {
      1: ({ name, ...rest }) => ({ ...rest, fullName: name }),
      2: (fields) => ({ ...fields, locale: 'en' }),
    }
  }

  it('goes one step at a time from the stored version to the current one', () => {
    expect(upcastFields(Renamed, { name: 'Ada' }, 1)).toEqual({ fullName: 'Ada', locale: 'en' })
    expect(upcastFields(Renamed, { fullName: 'Ada' }, 2)).toEqual({ fullName: 'Ada', locale: 'en' })
    expect(upcastFields(Renamed, { fullName: 'Ada', locale: 'fr' }, 3)).toEqual({ fullName: 'Ada', locale: 'fr' })
  })

  it('reads the class version, 1 without one, and refuses a bad one', () => {
    expect(eventVersionOf(Renamed)).toBe(3)
    expect(eventVersionOf(class Plain {})).toBe(1)
    expect(() => eventVersionOf(class Bad { static version = 1.5 })).toThrow('Bad.version must be a whole number from 1, got 1.5.')
    expect(() => eventVersionOf(class Zero { static version = 0 })).toThrow('Zero.version must be a whole number from 1')
  })

  it('names the missing step and the row from a later release', () => {
    class Gap {
      static readonly version = 3
      static readonly upcast: Upcasters = { 1: (fields) => fields }
    }
    expect(() => upcastFields(Gap, {}, 1)).toThrow('Event "Gap" has no upcaster from version 2 to 3')
    expect(() => upcastFields(Renamed, {}, 4)).toThrow('Event "Renamed" was stored at version 4, but its class here is at version 3')
  })
})
