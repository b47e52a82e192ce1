import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Dispatchable, Dispatcher, defineEvents } from 'herald'
import { emptyDiscovery } from '../../src/events/discovery.ts'
import { isDeclaredEvents } from '../../src/events/event-declarations.ts'
import { describeEvent } from '../../src/events/event-catalog.ts'
import { eventCategories, listEvents, showEvent } from '../../src/events/event-listing.ts'

// Names no other file declares: an EventsList augmentation is global to the compilation.
declare module 'herald' {
  interface EventsList {
    'declarations.report.sent': { reportId: number }
  }
}

describe('defineEvents', () => {
  it('freezes the declarations and marks them for discovery', () => {
    const declared = defineEvents({ 'declarations.report.sent': { description: 'A report went out', schema: z.object({ reportId: z.number() }) } })
    expect(isDeclaredEvents(declared)).toBe(true)
    expect(isDeclaredEvents({ 'declarations.report.sent': {} })).toBe(false)
    expect(Object.keys(declared)).toEqual(['declarations.report.sent'])
    expect(Object.isFrozen(declared)).toBe(true)
    expect(Object.isFrozen(declared['declarations.report.sent'])).toBe(true)
  })

  it('refuses an empty, long or wildcard name and malformed fields, naming the event', () => {
    const bad = (events: unknown) => () => defineEvents(events as never)
    expect(bad({ ' ': {} })).toThrow('defineEvents: " " is an empty event name.')
    expect(bad({ ['x'.repeat(201)]: {} })).toThrow('is longer than 200 characters.')
    expect(bad({ 'reports.*': {} })).toThrow('defineEvents: "reports.*" is a wildcard pattern: declare the events it matches, one by one.')
    expect(bad({ 'a.b': null })).toThrow('defineEvents: "a.b" needs an object: { description, category, tags, schema, example }.')
    expect(bad({ 'a.b': { description: 7 } })).toThrow('defineEvents: "a.b" has a description that is not a string.')
    expect(bad({ 'a.b': { category: ' ' } })).toThrow('defineEvents: "a.b" has a category that is not a non-empty string.')
    expect(bad({ 'a.b': { tags: 'x' } })).toThrow('defineEvents: "a.b" has tags that are not a list of strings.')
  })

  it('a declared event is listed and shown with its catalog entry, listeners or not', () => {
    const declared = defineEvents({ 'declarations.report.sent': { description: 'A report went out', tags: ['reports'], schema: z.object({ reportId: z.number().int().positive() }) } })
    const discovery = { ...emptyDiscovery, declared: new Map(Object.entries(declared)) }
    const events = new Dispatcher()
    const entry = showEvent(events, discovery, 'declarations.report.sent')
    expect(entry).toMatchObject({ event: 'declarations.report.sent', description: 'A report went out', tags: ['reports'], example: { reportId: 1 }, listeners: [] })
    expect(entry.schema).toMatchObject({ type: 'object', required: ['reportId'] })
    expect(listEvents(events, discovery).events).toEqual([entry])
    expect(listEvents(events, emptyDiscovery).events).toEqual([])
  })

  it('reads a category off a class and a declaration, and filters by it exactly', () => {
    class InvoiceSent extends Dispatchable {
      static category = ' billing '
    }
    class Odd extends Dispatchable {
      static category = 42
    }
    expect(describeEvent(InvoiceSent).category).toBe('billing')
    expect(describeEvent(Odd).category).toBeNull()
    const declared = defineEvents({ 'declarations.report.sent': { category: 'reports/ü 1' } })
    const discovery = { ...emptyDiscovery, declared: new Map(Object.entries(declared)) }
    const events = new Dispatcher()
    events.listen(InvoiceSent, () => undefined)
    events.listen(Odd, () => undefined)
    events.listen('declarations.*', () => undefined)
    const all = listEvents(events, discovery)
    expect(eventCategories(all.events)).toEqual(['billing', 'reports/ü 1'])
    expect(all.wildcards.map((w) => w.event)).toEqual(['declarations.*'])
    const reports = listEvents(events, discovery, { category: 'reports/ü 1' })
    expect(reports.events.map((e) => e.event)).toEqual(['declarations.report.sent'])
    // Wildcard patterns have no category: a category filter leaves them out.
    expect(reports.wildcards).toEqual([])
    expect(listEvents(events, discovery, { category: 'Billing' }).events).toEqual([])
    expect(listEvents(events, discovery, { category: 'billing', event: 'Invoice' }).events.map((e) => e.event)).toEqual(['InvoiceSent'])
    expect(listEvents(events, discovery, { category: 'billing', event: 'Report' }).events).toEqual([])
  })
})
