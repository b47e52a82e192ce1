import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Event, bootApplication, type Application } from 'herald'
import { OrderPlaced } from '../../app/events/order-placed.ts'
import { UserRegistered } from '../../app/events/user-registered.ts'
import ReserveStock from '../../app/listeners/reserve-stock.ts'
import SendWelcomeEmail from '../../app/listeners/send-welcome-email.ts'
import { inventory } from '../../app/services/inventory.ts'
import { mailbox } from '../../app/services/mailbox.ts'
import { auditLog } from '../../app/services/audit-log.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
let app: Application

beforeAll(async () => {
  app = await bootApplication({ basePath: root, env: { LOG_LEVEL: 'silent' }, envFile: false })
})
afterAll(() => app.shutdown())
beforeEach(() => {
  inventory.set('BOOK-1', 10)
  inventory.set('MUG-2', 5)
  mailbox.length = 0
  auditLog.length = 0
})

describe('the demo application', () => {
  it('reserves stock and audits an order', async () => {
    await OrderPlaced.dispatch(1, 7, [{ sku: 'BOOK-1', quantity: 3 }], 30)
    expect(inventory.get('BOOK-1')).toBe(7)
    expect(auditLog.map((entry) => entry.event)).toEqual(['OrderPlaced'])
  })

  it('fails an order for more than is in stock, leaving stock untouched, and still audits it', async () => {
    await expect(OrderPlaced.dispatch(2, 7, [{ sku: 'MUG-2', quantity: 9 }], 90)).rejects.toThrow(
      '1 listener failed for event "OrderPlaced": ReserveStock (Only 5 of MUG-2 left, order 2 wants 9)',
    )
    expect(inventory.get('MUG-2')).toBe(5)
    expect(auditLog.map((entry) => entry.event)).toEqual(['OrderPlaced'])
  })

  it('welcomes a new user', async () => {
    await UserRegistered.dispatch(3, 'ada@example.test')
    expect(mailbox).toEqual([{ to: 'ada@example.test', subject: 'Welcome to Herald' }])
  })

  it('can be tested with fakes: listeners are discovered, dispatches recorded, nothing runs', async () => {
    using fake = Event.fake()
    await UserRegistered.dispatch(4, 'bob@example.test')
    fake.assertListening(OrderPlaced, ReserveStock)
    fake.assertListening(UserRegistered, SendWelcomeEmail)
    fake.assertDispatched(UserRegistered, (event) => event.email === 'bob@example.test')
    expect(mailbox).toEqual([])
  })
})
