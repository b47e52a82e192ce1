/**
 * A listener class whose handle takes the wrong event type must be a compile error however
 * listen() is called. The direct `listen(OrderPlaced, Wrong)` form is covered in
 * dispatcher.test-d.ts; these are the forms where the compiler cannot lean on inferring the
 * event type from the listener (a list of events, a string event, an explicit type argument).
 */
import { expectTypeOf, test } from 'vitest'
import { Dispatcher, Listener, type ListenerLike } from 'herald'

class InvoicePaid {
  constructor(readonly invoiceId: number) {}
}

class AccountClosed {
  constructor(readonly reason: string) {}
}

class HandlesAccountClosed {
  handle(event: AccountClosed) {
    return event.reason
  }
}

class ClosedListener extends Listener.for(AccountClosed) {
  handle(event: AccountClosed) {
    return event.reason
  }
}

/** A subscriber routed by method name (no handle): still a valid listener. */
class InvoiceSubscriber {
  handleInvoicePaid(event: InvoicePaid) {
    return event.invoiceId
  }
}

const events = new Dispatcher()

test('a wrong listener class is rejected in every form of listen()', () => {
  // @ts-expect-error handle wants an AccountClosed
  events.listen([InvoicePaid], HandlesAccountClosed)
  // @ts-expect-error handle wants an AccountClosed
  events.listen<InvoicePaid>(InvoicePaid, HandlesAccountClosed)
  // @ts-expect-error handle wants an AccountClosed, not { id: number }
  events.listen('types.task.completed', ClosedListener)
  // @ts-expect-error handle wants an AccountClosed
  const listener: ListenerLike<InvoicePaid> = HandlesAccountClosed
  expectTypeOf(listener).not.toBeNever()
})

test('routed subscribers stay valid listeners', () => {
  events.listen(InvoicePaid, InvoiceSubscriber)
  events.listen([InvoicePaid], InvoiceSubscriber)
  const listener: ListenerLike<InvoicePaid> = InvoiceSubscriber
  expectTypeOf(listener).not.toBeNever()
})
