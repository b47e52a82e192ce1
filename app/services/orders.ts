import { DB, ValidationError, validate } from 'herald'
import { OrderPlaced } from '../events/order-placed.ts'
import { inventory, products } from './inventory.ts'

export interface OrderRow {
  readonly id: number
  readonly user_id: number
  readonly email: string
  readonly sku: string
  readonly quantity: number
  readonly total_cents: number
  readonly fail_warehouse: boolean | number
  readonly warehouse_notified_at: number | null
  readonly created_at: number
}

/** What the order form and the JSON API accept. */
export const orderRules = {
  email: 'required|email|max:120',
  sku: `required|in:${products.map((product) => product.sku).join(',')}`,
  quantity: 'required|integer|min:1|max:10',
  fail_warehouse: 'boolean',
} as const

/**
 * Places an order: validates the input (a ValidationError, 422, when it is wrong, and then
 * nothing is written or dispatched), writes the order in a transaction and dispatches
 * OrderPlaced in it, which runs its listeners once the order is committed.
 */
export async function placeOrder(input: unknown, userId: number): Promise<OrderRow> {
  const data = validate(input, orderRules)
  const left = inventory.get(data.sku) ?? 0
  if (data.quantity > left) throw new ValidationError({ quantity: [`Only ${left} of ${data.sku} left.`] })
  const product = products.find((candidate) => candidate.sku === data.sku)!
  const row = {
    user_id: userId,
    email: data.email,
    sku: data.sku,
    quantity: data.quantity,
    total_cents: product.priceCents * data.quantity,
    fail_warehouse: data.fail_warehouse,
    warehouse_notified_at: null,
    created_at: Date.now(),
  }
  return DB.transaction(async (trx) => {
    const [inserted] = (await trx('orders').insert(row).returning('id')) as ({ id: number } | number)[]
    const id = Number(typeof inserted === 'object' ? inserted.id : inserted)
    await OrderPlaced.dispatch(id, userId, [{ sku: row.sku, quantity: row.quantity }], row.total_cents, row.email)
    return { id, ...row }
  })
}

/** The latest orders, newest first. */
export async function recentOrders(limit = 10): Promise<OrderRow[]> {
  const db = await DB.connection()
  return (await db('orders').orderBy('id', 'desc').limit(limit)) as OrderRow[]
}
