import { eventClassName } from '../dispatchable.ts'

/** An event's fields at one version, as an upcaster takes and returns them (Dates, Maps, Sets already rebuilt). */
export type EventFields = Record<string, unknown>

/**
 * An event class's `static upcast`: for each old version N, a function from the fields at N to
 * the fields at N + 1. A row stored at version 1 of a class now at 3 goes through 1, then 2.
 *
 * ```ts
 * class OrderPlaced {
 *   static version = 2
 *   static upcast: Upcasters = { 1: ({ total, ...rest }) => ({ ...rest, totalCents: Number(total) * 100 }) }
 *   constructor(readonly orderId: number, readonly totalCents: number) {}
 * }
 * ```
 */
export type Upcasters = Readonly<Record<number, (fields: EventFields) => EventFields>>

/** An event class's current version: its `static version` (a whole number from 1), else 1. */
export function eventVersionOf(ctor: Function): number {
  const version = (ctor as { version?: unknown }).version
  if (version === undefined) return 1
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new TypeError(`${eventClassName(ctor)}.version must be a whole number from 1, got ${String(version)}.`)
  }
  return version
}

/**
 * The fields of an event stored at `storedVersion`, brought up to its class's current version
 * one step at a time. Throws when a step is missing, or when the row is newer than the class
 * (stored by a later release of the application).
 */
export function upcastFields(ctor: Function, fields: EventFields, storedVersion: number): EventFields {
  const current = eventVersionOf(ctor)
  const name = eventClassName(ctor)
  if (storedVersion > current) {
    throw new Error(`Event "${name}" was stored at version ${storedVersion}, but its class here is at version ${current}: is this an older release of the application?`)
  }
  const upcasters = ((ctor as { upcast?: Upcasters }).upcast ?? {}) as Upcasters
  let upcast = fields
  for (let version = storedVersion; version < current; version++) {
    const step = upcasters[version]
    if (typeof step !== 'function') {
      throw new Error(`Event "${name}" has no upcaster from version ${version} to ${version + 1}: add it to ${name}.upcast, e.g. static upcast = { ${version}: (fields) => ({ ...fields }) }.`)
    }
    upcast = step(upcast)
  }
  return upcast
}
