import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import { flag, text } from '../generator/command-options.ts'
import { nameContext, stringEventContext, type EventContext } from '../generator/contexts.ts'
import { parseEventReference } from '../generator/event-reference.ts'
import { eventStubContext, resolveClassEvent } from '../generator/event-source.ts'
import { parseName } from '../generator/naming.ts'
import { renderStub, type RenderedFile } from '../generator/render.ts'
import { writeFiles } from '../generator/write-files.ts'

/**
 * `artisan make:listener SendShipmentNotification [--event=OrderShipped] [--queued] [--test]
 * [--force]`: a listener in app/listeners that declares its event in its `extends` clause,
 * so discovery registers it with nothing else to write.
 *
 * - `--event=OrderShipped` (PascalCase, maybe nested `Admin/UserBanned`): typed for that
 *   class, which is generated too when app/events has no such class.
 * - `--event=order.shipped` (a dot, `*`, or a lowercase first letter): a string event or
 *   wildcard pattern.
 * - no `--event`: the string event named after the listener (`send-shipment-notification`),
 *   so the file type-checks and is discovered at once; the stub says to change it.
 */
const makeListener: CommandHandler = async ({ args, options, output, cwd }) => {
  const name = parseName(args[0] ?? '')
  const queued = flag(options, 'queued')
  const withTest = flag(options, 'test')
  const eventOption = text(options, 'event')
  const files: RenderedFile[] = []

  let event: EventContext
  if (eventOption === undefined) {
    event = stringEventContext(name.dotted)
  } else {
    const reference = parseEventReference(eventOption)
    if (reference.kind === 'string') {
      event = stringEventContext(reference.eventName)
    } else {
      if (reference.name.className === name.className) {
        throw new UserError(
          `The listener and its event are both named ${name.className}: name the listener for what it does, e.g. Notify${name.className}.`,
        )
      }
      const resolved = await resolveClassEvent(cwd, reference.name, true)
      event = resolved.event
      if (resolved.file) {
        files.push(resolved.file)
        if (withTest) {
          const context = { ...eventStubContext(reference.name, { broadcast: false, queued: false }), event }
          files.push(await renderStub(cwd, 'test.event', context))
        }
      }
    }
  }

  const stub = queued ? 'listener.queued' : event.isClass ? 'listener.typed' : 'listener'
  const context = { ...nameContext(name), queued, placeholder: eventOption === undefined, event }
  const listener = await renderStub(cwd, stub, context)
  files.push(listener)
  if (withTest) {
    files.push(await renderStub(cwd, 'test.listener', { ...context, listener: { class: name.className, file: listener.to } }))
  }
  writeFiles(cwd, files, output, flag(options, 'force'))
  return 0
}

export default makeListener
