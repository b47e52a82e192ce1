import { Channel, Dispatchable, PrivateChannel, ShouldBroadcast, ShouldDispatchAfterCommit } from 'herald'
import { z } from 'zod'

export interface OrderLine {
  readonly sku: string
  readonly quantity: number
}

/**
 * A customer placed an order. Dispatched inside the order's transaction, it waits for the
 * commit (ShouldDispatchAfterCommit: a rolled-back order announces nothing), then runs its
 * listeners and is broadcast, through the queue, to everyone on `orders` and to the customer
 * on `private-orders.{userId}`.
 */
export class OrderPlaced extends ShouldDispatchAfterCommit(ShouldBroadcast(Dispatchable)) {
  static description = 'A customer placed an order; dispatched once the order is committed'
  static tags = ['orders', 'checkout']
  /** Checked at every dispatch, before any listener runs; `artisan event:show OrderPlaced` prints it. */
  static schema = z.object({
    orderId: z.number().int().positive(),
    userId: z.number().int().positive(),
    items: z.array(z.object({ sku: z.string().min(1).meta({ examples: ['BOOK-1'] }), quantity: z.number().int().positive() })).min(1),
    total: z.number().int().nonnegative().describe('In cents'),
    // What the order form accepts as an email (its `email` rule); empty when not known.
    email: z.union([z.string().max(120).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/).meta({ examples: ['ada@example.test'] }), z.literal('')]),
  })

  constructor(
    public readonly orderId: number,
    public readonly userId: number,
    public readonly items: readonly OrderLine[],
    /** In cents. */
    public readonly total: number,
    public readonly email: string = '',
  ) {
    super()
  }

  broadcastOn() {
    return [new Channel('orders'), new PrivateChannel(`orders.${this.userId}`)]
  }
}
