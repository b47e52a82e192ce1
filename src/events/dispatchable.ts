import type { EventClass } from './types.ts'

/** The dispatcher the static `dispatch` helpers use: the facade root's, set at boot. */
export interface StaticDispatchTarget {
  dispatch(event: object): Promise<unknown[]>
}

let staticTarget: (() => StaticDispatchTarget) | null = null

/** @internal The facade root installs itself here so `OrderShipped.dispatch()` needs no import. */
export function setStaticDispatchTarget(resolve: () => StaticDispatchTarget): void {
  staticTarget = resolve
}

function target(): StaticDispatchTarget {
  if (staticTarget === null) {
    throw new Error('No dispatcher for OrderShipped.dispatch(): import from "herald" so the facades are set up.')
  }
  return staticTarget()
}

/**
 * Base class for events, Laravel's `Dispatchable` trait: `OrderShipped.dispatch(order)`
 * constructs the event with those arguments and dispatches it through the application's
 * dispatcher. Extending it is optional: any object can be dispatched.
 *
 * ```ts
 * export class OrderShipped extends Dispatchable {
 *   constructor(public readonly orderId: number) { super() }
 * }
 * await OrderShipped.dispatch(42)
 * ```
 */
export abstract class Dispatchable {
  /** Overrides the event's name (the class name by default). */
  static readonly eventName?: string

  /** Constructs the event with `args` and dispatches it; resolves to the listeners' responses. */
  static dispatch<A extends unknown[]>(this: new (...args: A) => object, ...args: A): Promise<unknown[]> {
    return target().dispatch(new this(...args))
  }

  /** Dispatches only when `condition` is truthy; otherwise resolves to `[]` without constructing. */
  static dispatchIf<A extends unknown[]>(
    this: new (...args: A) => object,
    condition: unknown,
    ...args: A
  ): Promise<unknown[]> {
    return condition ? target().dispatch(new this(...args)) : Promise.resolve([])
  }

  /** Dispatches only when `condition` is falsy. */
  static dispatchUnless<A extends unknown[]>(
    this: new (...args: A) => object,
    condition: unknown,
    ...args: A
  ): Promise<unknown[]> {
    return condition ? Promise.resolve([]) : target().dispatch(new this(...args))
  }
}

/** The name of an event class: its own `static eventName`, else the class name. */
export function eventClassName(ctor: EventClass | Function): string {
  const declared = Object.hasOwn(ctor, 'eventName') ? (ctor as EventClass).eventName : undefined
  return declared ?? ctor.name
}
