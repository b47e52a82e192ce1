import { UserError } from '../../foundation/errors.ts'
import { quoteInput } from '../quote-input.ts'
import { MAX_NAME_LENGTH, parseName, type GeneratorName } from './naming.ts'

/**
 * An event named on the command line (`--event`, `--events`): a class event, or a string
 * event (`order.shipped`) or wildcard pattern (`orders.*`).
 */
export type EventReference =
  | { readonly kind: 'class'; readonly name: GeneratorName }
  | { readonly kind: 'string'; readonly eventName: string; readonly wildcard: boolean }

const STRING_EVENT = /^[A-Za-z0-9_.:*-]+$/

/**
 * Class events are PascalCase (`OrderShipped`, `Admin/UserBanned`); anything with a dot, a
 * `*`, or a lowercase first letter is a string event, as in `Event.listen('order.shipped')`.
 * So `order-shipped` here is the string event, not the class.
 */
export function parseEventReference(input: string): EventReference {
  const raw = input.trim()
  if (raw === '') throw new UserError('The event name is empty: pass --event=OrderShipped or --event=order.shipped.')
  if (raw.length > MAX_NAME_LENGTH) {
    throw new UserError(`Invalid event name ${quoteInput(raw)}: an event name is at most ${MAX_NAME_LENGTH} characters.`)
  }
  const last = raw.slice(raw.lastIndexOf('/') + 1)
  const isString = raw.includes('.') || raw.includes('*') || !/^[A-Z]/.test(last) || raw.includes(':')
  if (!isString || raw.includes('/')) return { kind: 'class', name: parseName(raw) }
  if (!STRING_EVENT.test(raw)) {
    throw new UserError(
      `Invalid event name ${quoteInput(raw)}: string events use letters, digits and . _ - : * (e.g. order.shipped, orders.*).`,
    )
  }
  return { kind: 'string', eventName: raw, wildcard: raw.includes('*') }
}
