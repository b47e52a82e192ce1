import { describe, expect, it } from 'vitest'
import { DatabaseManager } from '../../src/database/database-manager.ts'
import { UserError } from '../../src/foundation/errors.ts'
import { DatabaseDriver } from '../../src/queue/drivers/database-driver.ts'

/** The database queue's settings are checked when the connection is made: one line naming the setting. */
describe('the database queue connection settings', () => {
  const db = new DatabaseManager({ default: 'main', connections: { main: { driver: 'sqlite', filename: ':memory:' } } }, '/tmp')
  const make = (settings: { lease?: number; prefetch?: number }) => new DatabaseDriver('database', { driver: 'database', table: 'jobs', queue: 'default', ...settings }, db)

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses prefetch %s', (prefetch) => {
    expect(() => make({ prefetch })).toThrow(UserError)
    expect(() => make({ prefetch })).toThrow(
      `Queue connection "database": prefetch must be a whole number of jobs, 0 or more (config/queue.ts, QUEUE_PREFETCH), got ${String(prefetch)}.`,
    )
  })

  it.each([0, -2, Number.NaN])('refuses lease %s', (lease) => {
    expect(() => make({ lease })).toThrow(/^Queue connection "database": lease must be a number of seconds above 0 \(config\/queue\.ts, QUEUE_LEASE\), got /)
  })

  it('takes prefetch 0 (only what the free slots start) and the defaults', () => {
    expect(make({ prefetch: 0 })).toBeInstanceOf(DatabaseDriver)
    expect(make({})).toBeInstanceOf(DatabaseDriver)
  })
})
