import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import { flag, text } from '../generator/command-options.ts'
import { nameContext, stringEventContext, type EventContext } from '../generator/contexts.ts'
import { parseEventReference } from '../generator/event-reference.ts'
import { resolveClassEvent } from '../generator/event-source.ts'
import { parseName } from '../generator/naming.ts'
import { renderStub } from '../generator/render.ts'
import { writeFiles } from '../generator/write-files.ts'

async function subscribedEvents(cwd: string, list: string, subscriber: string): Promise<EventContext[]> {
  const names = list.split(',').map((item) => item.trim()).filter((item) => item !== '')
  if (names.length === 0) throw new UserError('--events is empty: list events like --events=OrderShipped,task.completed.')
  const events: EventContext[] = []
  for (const item of names) {
    const reference = parseEventReference(item)
    if (reference.kind === 'string') {
      if (reference.wildcard) {
        throw new UserError(
          `A subscriber routes events to methods by name, so "${item}" cannot be one: make a listener for it, make:listener Name --event='${item}'.`,
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
 * `artisan make:subscriber OrderLifecycle [--events=OrderShipped,task.completed] [--force]`:
 * a subscriber in app/subscribers with one routed method per event (`handleOrderShipped`,
 * `handleTaskCompleted`, named as the dispatcher routes them). Class events must exist.
 * Without --events it gets a `subscribe(events)` method to register its own listeners.
 */
const makeSubscriber: CommandHandler = async ({ args, options, output, cwd }) => {
  const name = parseName(args[0] ?? '')
  const list = text(options, 'events')
  const events = list === undefined ? [] : await subscribedEvents(cwd, list, name.className)
  const imports = new Map<string, { class: string; file: string; defaultExport: boolean }>()
  for (const event of events) {
    if (event.class !== null && event.file !== null) {
      imports.set(event.class, { class: event.class, file: event.file, defaultExport: event.defaultExport })
    }
  }
  const subscriber = await renderStub(cwd, 'subscriber', {
    ...nameContext(name),
    routed: events.length > 0,
    events,
    imports: [...imports.values()],
    expressions: events.map((event) => event.expression).join(', '),
    payloadOf: events.some((event) => !event.isClass),
  })
  writeFiles(cwd, [subscriber], output, flag(options, 'force'))
  return 0
}

export default makeSubscriber
