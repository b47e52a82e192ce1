import { Channel, Dispatchable, PrivateChannel, ShouldBroadcast, ShouldDispatchAfterCommit } from 'herald'

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
