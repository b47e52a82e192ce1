import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Broadcast, Event, PrivateChannel, Queue, bootApplication, createMigrator, type Application, type Knex } from 'herald'
import { OrderPlaced } from '../../app/events/order-placed.ts'
import { UserRegistered } from '../../app/events/user-registered.ts'
import NotifyWarehouse from '../../app/listeners/notify-warehouse.ts'
import ReserveStock from '../../app/listeners/reserve-stock.ts'
import SendOrderConfirmation from '../../app/listeners/send-order-confirmation.ts'
import SendWelcomeEmail from '../../app/listeners/send-welcome-email.ts'
import { inventory } from '../../app/services/inventory.ts'
import { mailbox } from '../../app/services/mailbox.ts'
import { auditLog } from '../../app/services/audit-log.ts'
import { placeOrder } from '../../app/services/orders.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
let app: Application
let database: FreshDatabase
let db: Knex

beforeAll(async () => {
  database = await freshDatabase('sqlite')
  app = await bootApplication({
    basePath: root,
    // The sync queue runs queued listeners in the dispatch: what a test of the listeners wants.
    env: { LOG_LEVEL: 'silent', DB_DATABASE: (database.connection as { filename: string }).filename, QUEUE_CONNECTION: 'sync', BROADCAST_CONNECTION: 'null' },
    envFile: false,
  })
  await (await createMigrator(app)).latest()
  db = await app.make('db').connection()
})
afterAll(async () => {
  await app.shutdown()
  await database.drop()
})
beforeEach(async () => {
  inventory.set('BOOK-1', 10)
  inventory.set('MUG-2', 5)
  mailbox.length = 0
  auditLog.length = 0
  await db('orders').delete()
  await db('outbox').delete()
})

describe('the demo application', () => {
  it('reserves stock, confirms by mail and audits an order', async () => {
    await OrderPlaced.dispatch(1, 7, [{ sku: 'BOOK-1', quantity: 3 }], 3000, 'ada@example.test')
    expect(inventory.get('BOOK-1')).toBe(7)
    expect(await db('outbox').select('order_id', 'to', 'subject')).toEqual([{ order_id: 1, to: 'ada@example.test', subject: 'Your order #1' }])
    expect(auditLog.map((entry) => entry.event)).toEqual(['OrderPlaced'])
  })

  it('fails an order for more than is in stock, leaving stock untouched, and still audits it', async () => {
    await expect(OrderPlaced.dispatch(2, 7, [{ sku: 'MUG-2', quantity: 9 }], 90)).rejects.toThrow(
      '1 listener failed for event "OrderPlaced": ReserveStock (Only 5 of MUG-2 left, order 2 wants 9)',
    )
    expect(inventory.get('MUG-2')).toBe(5)
    expect(auditLog.map((entry) => entry.event)).toEqual(['OrderPlaced'])
  })

  it('places an order: the row, then, once committed, every listener (the warehouse notified)', async () => {
    const order = await placeOrder({ email: 'ada@example.test', sku: 'MUG-2', quantity: '2' }, 1)
    expect(order).toMatchObject({ email: 'ada@example.test', sku: 'MUG-2', quantity: 2, total_cents: 2500 })
    expect(inventory.get('MUG-2')).toBe(3)
    expect((await db('orders').where('id', order.id).first()).warehouse_notified_at).toBeGreaterThan(0)
    expect(await db('outbox').where('order_id', order.id).count({ n: '*' })).toEqual([{ n: 1 }])
  })

  it('welcomes a new user', async () => {
    await UserRegistered.dispatch(3, 'ada@example.test')
    expect(mailbox).toEqual([{ to: 'ada@example.test', subject: 'Welcome to Herald' }])
  })

  it('can be tested with fakes: listeners are discovered, dispatches recorded, nothing runs', async () => {
    using fake = Event.fake()
    await UserRegistered.dispatch(4, 'bob@example.test')
    fake.assertListening(OrderPlaced, ReserveStock)
    fake.assertListening(OrderPlaced, SendOrderConfirmation)
    fake.assertListening(OrderPlaced, NotifyWarehouse)
    fake.assertListening(UserRegistered, SendWelcomeEmail)
    fake.assertDispatched(UserRegistered, (event) => event.email === 'bob@example.test')
    expect(mailbox).toEqual([])
  })

  it('queues the confirmation and the warehouse, and broadcasts to the customer, as the fakes see it', async () => {
    using queue = Queue.fake()
    using broadcasts = Broadcast.fake()
    const order = await placeOrder({ email: 'ada@example.test', sku: 'BOOK-1', quantity: 1 }, 1)
    queue.assertPushed(SendOrderConfirmation, (event: OrderPlaced) => event.orderId === order.id)
    queue.assertPushed(NotifyWarehouse, 1)
    broadcasts.assertBroadcast(OrderPlaced, new PrivateChannel('orders.1'))
    broadcasts.assertBroadcast(OrderPlaced, 'orders')
    expect(await db('outbox').count({ n: '*' })).toEqual([{ n: 0 }])
  })
})
