import type { KnownEventName } from './types.ts'

/**
 * What the catalog says of a string event, declared at run time: `EventsList` types the
 * payload for the compiler but vanishes at run time, so `event:list` and `event:show` read
 * this instead. Every field is optional; `schema` (zod) is printed as JSON Schema and gives
 * the example payload when there is no `example`. It documents the event: unlike a class's
 * `static schema`, it is not checked at dispatch.
 */
export interface StringEventDeclaration {
  readonly description?: string
  /** One word grouping events in `event:list` (`--category tasks`). */
  readonly category?: string
  readonly tags?: readonly string[]
  readonly schema?: unknown
  readonly example?: unknown
}

/** Declarations keyed by event name; every name must be declared in `EventsList`. */
export type StringEventDeclarations<D> = { readonly [K in keyof D]: K extends KnownEventName ? StringEventDeclaration : never }

const DECLARED = Symbol.for('herald.declaredEvents')

/** What {@link defineEvents} returns: the declarations, frozen and marked for discovery. */
export type DeclaredEvents<D> = Readonly<D> & { readonly [DECLARED]: true }

/** The longest string event name a declaration may have, like the generators' bound. */
const MAX_EVENT_NAME = 200

/**
 * Declares string events for the catalog. Export the result from a file in app/events and
 * discovery finds it; `artisan event:list` and `event:show` then show each event, with its
 * description, category and payload schema, even before anything listens to it.
 *
 * ```ts
 * // app/events/task-events.ts
 * declare module 'herald' {
 *   interface EventsList { 'task.completed': { id: number } }
 * }
 * export const taskEvents = defineEvents({
 *   'task.completed': { description: 'A task finished', category: 'tasks', schema: z.object({ id: z.number() }) },
 * })
 * ```
 */
export function defineEvents<const D extends StringEventDeclarations<D>>(events: D): DeclaredEvents<D> {
  const declared: Record<string, StringEventDeclaration> = {}
  for (const [name, declaration] of Object.entries(events as Record<string, unknown>)) {
    declared[name] = Object.freeze({ ...checked(name, declaration) })
  }
  Object.defineProperty(declared, DECLARED, { value: true })
  return Object.freeze(declared) as unknown as DeclaredEvents<D>
}

/** True for what {@link defineEvents} returned. */
export function isDeclaredEvents(value: unknown): value is Readonly<Record<string, StringEventDeclaration>> {
  return value !== null && typeof value === 'object' && (value as { [DECLARED]?: unknown })[DECLARED] === true
}

function checked(name: string, declaration: unknown): StringEventDeclaration {
  const refuse = (why: string): never => {
    throw new TypeError(`defineEvents: ${JSON.stringify(name.slice(0, MAX_EVENT_NAME))} ${why}.`)
  }
  if (name.trim() === '') refuse('is an empty event name')
  if (name.length > MAX_EVENT_NAME) refuse(`is longer than ${MAX_EVENT_NAME} characters`)
  if (name.includes('*')) refuse('is a wildcard pattern: declare the events it matches, one by one')
  if (declaration === null || typeof declaration !== 'object' || Array.isArray(declaration)) {
    refuse('needs an object: { description, category, tags, schema, example }')
  }
  const { description, category, tags } = declaration as Record<string, unknown>
  if (description !== undefined && typeof description !== 'string') refuse('has a description that is not a string')
  if (category !== undefined && (typeof category !== 'string' || category.trim() === '')) refuse('has a category that is not a non-empty string')
  if (tags !== undefined && !(Array.isArray(tags) && tags.every((tag) => typeof tag === 'string'))) refuse('has tags that are not a list of strings')
  return declaration as StringEventDeclaration
}
