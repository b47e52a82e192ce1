import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Dispatchable, Dispatcher, Listener, ShouldQueue } from 'herald'
import { OrderPlaced } from '../../app/events/order-placed.ts'
import { emptyDiscovery } from '../../src/events/discovery.ts'
import { closeMatches, describeEvent, exampleOf } from '../../src/events/event-catalog.ts'
import { listEvents, showEvent } from '../../src/events/event-listing.ts'

class InvoicePaid extends Dispatchable {
  static description = 'An invoice was paid in full'
  static tags = ['billing']
  static schema = z.object({
    invoiceId: z.uuid(),
    amount: z.number().int().min(100),
    currency: z.enum(['EUR', 'USD']),
    paidAt: z.iso.datetime(),
    payer: z.object({ email: z.email(), name: z.string().min(8).optional() }),
    note: z.string().nullable(),
    lines: z.array(z.object({ label: z.string(), cents: z.number().positive() })).min(2),
    channel: z.string().default('web'),
  })

  constructor(readonly invoiceId: string) {
    super()
  }
}

class Refunded extends Dispatchable {
  static schema = z.object({ orderId: z.number() })
  static example = { orderId: 42 }
}

class Plain extends Dispatchable {}

describe('the event catalog', () => {
  it('reads description, tags and the schema as JSON Schema off the class', () => {
    const entry = describeEvent(InvoicePaid)
    expect(entry.description).toBe('An invoice was paid in full')
    expect(entry.tags).toEqual(['billing'])
    expect(entry.schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { invoiceId: { type: 'string', format: 'uuid' }, currency: { enum: ['EUR', 'USD'] } },
    })
    // What a dispatch passes in: a field with a default is not required.
    expect((entry.schema as { required: string[] }).required).not.toContain('channel')
  })

  it('derives an example payload from the schema that the schema accepts', () => {
    const { example } = describeEvent(InvoicePaid)
    expect(example).toEqual({
      invoiceId: '01890a5d-ac96-774b-bcce-b302099a8057',
      amount: 100,
      currency: 'EUR',
      paidAt: '2026-01-01T12:00:00.000Z',
      payer: { email: 'user@example.com', name: 'stringxx' },
      note: 'string',
      lines: [
        { label: 'string', cents: 1.5 },
        { label: 'string', cents: 1.5 },
      ],
      channel: 'web',
    })
    expect(InvoicePaid.schema.safeParse(example).success).toBe(true)
  })

  it('prefers the class’s static example, and says nothing of a class without schema', () => {
    expect(describeEvent(Refunded).example).toEqual({ orderId: 42 })
    expect(describeEvent(Plain)).toEqual({ description: null, category: null, tags: [], schema: null, example: null })
    expect(describeEvent(undefined)).toEqual({ description: null, category: null, tags: [], schema: null, example: null })
  })

  it('gives the demo’s OrderPlaced a description and an example its schema accepts', () => {
    const entry = describeEvent(OrderPlaced)
    expect(entry.description).toMatch(/placed an order/)
    expect(entry.example).toEqual({ orderId: 1, userId: 1, items: [{ sku: 'BOOK-1', quantity: 1 }], total: 1, email: 'ada@example.test' })
    expect(OrderPlaced.schema.safeParse(entry.example).success).toBe(true)
  })

  it('follows $ref, allOf and bounds when deriving', () => {
    expect(exampleOf({ $defs: { id: { type: 'integer', exclusiveMinimum: 5 } }, type: 'object', properties: { id: { $ref: '#/$defs/id' } } })).toEqual({ id: 6 })
    expect(exampleOf({ allOf: [{ type: 'object', properties: { a: { type: 'boolean' } } }, { type: 'object', properties: { b: { const: 2 } } }] })).toEqual({ a: true, b: 2 })
    expect(exampleOf({ type: 'number', maximum: 0 })).toBe(0)
    expect(exampleOf({ type: 'string', maxLength: 3 })).toBe('str')
    // What JSON Schema cannot say (a Date from zod) is not guessed.
    expect(exampleOf({})).toBeNull()
  })

  it('names close matches', () => {
    const names = ['OrderPlaced', 'OrderShipped', 'UserRegistered', 'orders.cancelled']
    expect(closeMatches('OrderPlace', names)).toEqual(['OrderPlaced'])
    expect(closeMatches('order', names)).toEqual(['OrderPlaced', 'orders.cancelled', 'OrderShipped'])
    expect(closeMatches('Invoice', names)).toEqual([])
  })
})

describe('listEvents and showEvent', () => {
  class Ship extends ShouldQueue(Listener.for(InvoicePaid)) {
    handle() {}
  }

  it('list each event’s catalog entry with its listeners, queued or not', () => {
    const events = new Dispatcher()
    events.listen(InvoicePaid, Ship)
    events.listen('invoices.*', () => undefined)
    const listing = listEvents(events, emptyDiscovery)
    expect(listing.events).toEqual([
      {
        event: 'InvoicePaid',
        description: 'An invoice was paid in full',
        category: null,
        tags: ['billing'],
        broadcast: false,
        listeners: [{ name: 'Ship', method: null, pattern: null, queued: true }],
        schema: describeEvent(InvoicePaid).schema,
        example: describeEvent(InvoicePaid).example,
      },
    ])
    expect(listing.wildcards[0]).toMatchObject({ event: 'invoices.*', description: null, schema: null, example: null })
    expect(showEvent(events, emptyDiscovery, 'InvoicePaid')).toEqual(listing.events[0])
  })

  it('answers an unknown name with the close ones', () => {
    const events = new Dispatcher()
    events.listen(InvoicePaid, Ship)
    expect(() => showEvent(events, emptyDiscovery, 'InvoicePayd')).toThrow('Event "InvoicePayd" is not known: did you mean InvoicePaid?')
    expect(() => showEvent(events, emptyDiscovery, 'Nope')).toThrow('Event "Nope" is not known (see artisan event:list).')
  })
})
