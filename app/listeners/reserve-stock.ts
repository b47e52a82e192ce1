import { Listener } from 'herald'
import { OrderPlaced } from '../events/order-placed.ts'
import { inventory, OutOfStock } from '../services/inventory.ts'

/** Takes the ordered items out of stock; an unknown or short item fails the order. */
export default class ReserveStock extends Listener.for(OrderPlaced) {
  handle(event: OrderPlaced) {
    for (const { sku, quantity } of event.items) {
      const left = inventory.get(sku) ?? 0
      if (left < quantity) throw new OutOfStock(`Only ${left} of ${sku} left, order ${event.orderId} wants ${quantity}`)
    }
    for (const { sku, quantity } of event.items) inventory.set(sku, (inventory.get(sku) ?? 0) - quantity)
  }
}
