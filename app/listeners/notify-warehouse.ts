import { DB, Listener, ShouldQueue } from 'herald'
import { OrderPlaced } from '../events/order-placed.ts'

export class WarehouseUnavailable extends Error {
  override readonly name = 'WarehouseUnavailable'
}

/**
 * Tells the warehouse to ship, in a queued job. An order placed with "simulate a warehouse
 * outage" fails every attempt (3 tries, 1 s then 2 s apart) and lands in failed jobs; its
 * `failed()` hook then clears the outage, so that retrying the job from failed jobs succeeds.
 */
export default class NotifyWarehouse extends ShouldQueue(Listener.for(OrderPlaced)) {
  tries = 3
  backoff = [1, 2]

  async handle(event: OrderPlaced) {
    const db = await DB.connection()
    const order = (await db('orders').where('id', event.orderId).first()) as { fail_warehouse: number | boolean } | undefined
    if (order === undefined) return
    if (order.fail_warehouse) throw new WarehouseUnavailable(`The warehouse did not answer for order #${event.orderId}`)
    await db('orders').where('id', event.orderId).update({ warehouse_notified_at: Date.now() })
  }

  async failed(event: OrderPlaced) {
    const db = await DB.connection()
    await db('orders').where('id', event.orderId).update({ fail_warehouse: false })
  }
}
