import { DB, Listener, ShouldQueue } from 'herald'
import { OrderPlaced } from '../events/order-placed.ts'

/** Writes the order confirmation to the outbox, in a queued job (the mail a real shop would send). */
export default class SendOrderConfirmation extends ShouldQueue(Listener.for(OrderPlaced)) {
  tries = 3
  backoff = [1, 5]

  async handle(event: OrderPlaced) {
    const db = await DB.connection()
    const lines = event.items.map((item) => `${item.quantity} × ${item.sku}`).join(', ')
    await db('outbox').insert({
      order_id: event.orderId,
      to: event.email,
      subject: `Your order #${event.orderId}`,
      body: `Thank you for your order: ${lines}, ${(event.total / 100).toFixed(2)} in all.`,
      created_at: Date.now(),
    })
  }
}
