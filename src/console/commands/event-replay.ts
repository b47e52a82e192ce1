import { EventReplayer, type ReplayStep } from '../../events/store/event-replayer.ts'
import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'
import type { Output } from '../output.ts'
import { printStoredEvents } from './event-history.ts'
import { onDatabase } from '../service-failure.ts'
import { parseBound, parseNames } from '../stored-event-input.ts'
import { errorMessage } from '../../foundation/error-message.ts'

const BAR_WIDTH = 30

/** A failure or a skip, on a line of its own. */
function describe(step: ReplayStep, output: Output): string | null {
  const { id, name } = step.stored
  if (step.outcome === 'failed') return `  ${id} ${name} ${output.paint('FAIL', 'red')}  ${errorMessage(step.error)}`
  if (step.outcome === 'skipped') return `  ${id} ${name} ${output.paint('SKIP', 'yellow')}  ${errorMessage(step.error)}`
  return null
}

/**
 * On a terminal, one bar redrawn in place (failures printed above it); otherwise one line per
 * event, for logs.
 */
function progress(output: Output, total: number): { step: (step: ReplayStep) => void; note: (text: string) => void; end: () => void } {
  let done = 0
  if (!output.interactive) {
    return {
      step: (step) => output.line(describe(step, output) ?? `  ${step.stored.id} ${step.stored.name} ${output.paint('DONE', 'green')}`),
      note: (text) => output.line(text),
      end: () => {},
    }
  }
  const draw = () => {
    const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH)
    output.write(`\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total}`)
  }
  const above = (line: string) => {
    output.write(`\r\u001b[2K${line}\n`)
    draw()
  }
  draw()
  return {
    step: (step) => {
      done++
      const line = describe(step, output)
      if (line === null) draw()
      else above(line)
    },
    note: above,
    end: () => output.write('\n'),
  }
}

/**
 * `artisan event:replay`: re-dispatches stored events, oldest first, to their listeners (or one
 * listener), without storing them again. SIGINT or SIGTERM stops after the event in hand and
 * prints the `--from` that resumes; exit 1 when a listener failed, 130 when interrupted.
 */
const eventReplay: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('event:replay needs the booted application')
  const from = parseBound(options.from, '--from')
  const to = parseBound(options.to, '--to')
  if (from !== undefined && to !== undefined && from > to) throw new UserError('--from and --to: the start is after the end.')
  const filter = { from, to, events: parseNames(options.event) }
  const listener = typeof options.listener === 'string' ? options.listener : undefined
  const events = app.make('events')
  if (listener !== undefined && !isRegistered([...events.getListeners().values()].flat(), listener)) {
    throw new UserError(`Listener "${listener}" is not registered: see artisan event:list for the names.`)
  }
  const store = app.make('events.store')
  const storeConnection = app.config.get('events').store.connection

  if (options.dryRun === true) {
    const stored = await onDatabase(app, storeConnection, async () => {
      const found = []
      for await (const event of store.cursor(filter)) found.push(event)
      return found
    })
    if (stored.length === 0) {
      output.line('No stored events to replay.')
      return 0
    }
    printStoredEvents(output, stored)
    output.line(`Would replay ${stored.length} event(s)${listener === undefined ? '' : ` to ${listener}`}.`)
    for (const event of stored) {
      try {
        store.rebuild(event)
      } catch (error) {
        output.line(describe({ stored: event, outcome: 'skipped', error }, output)!)
      }
    }
    return 0
  }

  const total = await onDatabase(app, storeConnection, () => store.count(filter))
  if (total === 0) {
    output.line('No stored events to replay.')
    return 0
  }
  const abort = new AbortController()
  const bar = progress(output, total)
  const stop = () => {
    if (!abort.signal.aborted) bar.note('Stopping after the event in hand…')
    abort.abort()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    const summary = await new EventReplayer(store, events).replay({ ...filter, ...(listener !== undefined && { listener }), signal: abort.signal, onEvent: bar.step })
    bar.end()
    const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped (class unknown)` : ''
    output.line(`Replayed ${summary.replayed}, failed ${summary.failed}${skipped}.`)
    if (summary.stoppedBefore !== null) {
      output.line(`Interrupted before ${summary.stoppedBefore}: resume with --from=${summary.stoppedBefore}`)
      return 130
    }
    return summary.failed > 0 ? 1 : 0
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

function isRegistered(listeners: ReadonlyArray<{ name: string; method: string | null }>, name: string): boolean {
  return listeners.some((entry) => entry.name === name || `${entry.name}@${entry.method}` === name)
}

export default eventReplay
