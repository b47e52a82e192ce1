import type { CommandHandler } from '../command.ts'
import { flag } from '../generator/command-options.ts'
import { classEventContext } from '../generator/contexts.ts'
import { eventStubContext, renderEvent } from '../generator/event-source.ts'
import { parseName } from '../generator/naming.ts'
import { renderStub, type RenderedFile } from '../generator/render.ts'
import { writeFiles } from '../generator/write-files.ts'

/**
 * `artisan make:event OrderShipped [--broadcast] [--queued] [--test] [--force]`: the event
 * class in app/events (from the event or event.broadcast stub), and with --test its unit test.
 */
const makeEvent: CommandHandler = async ({ args, options, output, cwd }) => {
  const name = parseName(args[0] ?? '')
  const flags = { broadcast: flag(options, 'broadcast'), queued: flag(options, 'queued') }
  const event = await renderEvent(cwd, name, flags)
  const files: RenderedFile[] = [event]
  if (flag(options, 'test')) {
    const context = classEventContext(name, event.to, { defaultExport: false, created: true })
    files.push(await renderStub(cwd, 'test.event', { ...eventStubContext(name, flags), event: context }))
  }
  writeFiles(cwd, files, output, flag(options, 'force'))
  return 0
}

export default makeEvent
