import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import { flag, list } from '../generator/command-options.ts'
import { nameContext, stringEventContext, type EventContext } from '../generator/contexts.ts'
import { parseEventReference } from '../generator/event-reference.ts'
import { resolveClassEvent } from '../generator/event-source.ts'
import { parseName } from '../generator/naming.ts'
import { renderStub, type RenderedFile } from '../generator/render.ts'
import { writeFiles } from '../generator/write-files.ts'
import { quoteInput } from '../quote-input.ts'

/** A bound on `--events`, like every input's: far more than one class should handle. */
const MAX_EVENTS = 100

/**
 * The event names of `--events`, given apart (`--events OrderShipped task.completed`), with
 * commas (`--events=OrderShipped,task.completed`) or both. An empty item (`a,,b`, a trailing
 * comma, an empty argument) is refused rather than skipped: it is a typo or a shell variable
 * that expanded to nothing.
 */
function eventNames(values: readonly string[]): string[] {
  const names = values.flatMap((value) => value.split(',')).map((item) => item.trim())
  if (names.length === 0 || names.every((item) => item === '')) {
    throw new UserError('--events is empty: list events like --events OrderShipped task.completed.')
  }
  if (names.includes('')) {
    throw new UserError(
      `--events has an empty item (${values.map(quoteInput).join(' ')}): list events like --events OrderShipped task.completed.`,
    )
  }
  if (names.length > MAX_EVENTS) throw new UserError(`--events lists ${names.length} events: a subscriber takes at most ${MAX_EVENTS}.`)
  return names
}

async function subscribedEvents(cwd: string, values: readonly string[], subscriber: string): Promise<EventContext[]> {
  const names = eventNames(values)
  const events: EventContext[] = []
  for (const item of names) {
    const reference = parseEventReference(item)
    if (reference.kind === 'string') {
      if (reference.wildcard) {
        throw new UserError(
          `A subscriber routes events to methods by name, so "${item}" cannot be one: make a listener for it (make:listener Name --event='${item}'), or route it by hand in static events ({ '${item}': 'handleEvents' }).`,
        )
      }
      events.push(stringEventContext(reference.eventName))
      continue
    }
    if (reference.name.className === subscriber) {
      throw new UserError(`The subscriber and its event ${subscriber} have the same name: name the subscriber e.g. ${subscriber}Subscriber.`)
    }
    // A subscriber never invents its events: a missing class is an error naming make:event.
    events.push((await resolveClassEvent(cwd, reference.name, false)).event)
  }
  const byMethod = new Map<string, string>()
  for (const event of events) {
    const other = byMethod.get(event.method)
    if (other !== undefined) {
      throw new UserError(`"${other}" and "${event.name}" would both be routed to ${event.method}(): list each event once.`)
    }
    byMethod.set(event.method, event.name)
  }
  return events
}

/**
 * `artisan make:subscriber OrderLifecycle [--events OrderShipped task.completed] [--test] [--force]`
 * (or `--events=OrderShipped,task.completed`):
 * a subscriber in app/subscribers with one routed method per event (`handleOrderShipped`,
 * `handleTaskCompleted`, named as the dispatcher routes them). Class events must exist.
 * Without --events it gets a `subscribe(events)` method to register its own listeners.
 * `--test` adds a feature test (tests/feature/subscribers/) that boots the application and
 * checks it is discovered and each event reaches its method.
 */
const makeSubscriber: CommandHandler = async ({ args, options, output, cwd }) => {
  const name = parseName(args[0] ?? '')
  const values = list(options, 'events')
  const events = values === undefined ? [] : await subscribedEvents(cwd, values, name.className)
  const imports = new Map<string, { class: string; file: string; defaultExport: boolean }>()
  for (const event of events) {
    if (event.class !== null && event.file !== null) {
      imports.set(event.class, { class: event.class, file: event.file, defaultExport: event.defaultExport })
    }
  }
  const context = {
    ...nameContext(name),
    routed: events.length > 0,
    events,
    imports: [...imports.values()],
    expressions: events.map((event) => event.expression).join(', '),
    payloadOf: events.some((event) => !event.isClass),
  }
  const subscriber = await renderStub(cwd, 'subscriber', context)
  const files: RenderedFile[] = [subscriber]
  if (flag(options, 'test')) {
    files.push(await renderStub(cwd, 'test.subscriber', { ...context, subscriber: { class: name.className, file: subscriber.to } }))
  }
  writeFiles(cwd, files, output, flag(options, 'force'))
  return 0
}

export default makeSubscriber
