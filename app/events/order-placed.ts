import { Dispatchable } from 'herald'

/** A customer placed an order. */
export class OrderPlaced extends Dispatchable {
  constructor(
    public readonly orderId: number,
    public readonly userId: number,
    public readonly items: ReadonlyArray<{ readonly sku: string; readonly quantity: number }>,
    public readonly total: number,
  ) {
    super()
  }
}
