import { broadcastMessage } from '../../broadcasting/broadcast-message.ts'
import type { Application } from '../../foundation/application.ts'
import { errorMessage } from '../../foundation/error-message.ts'
import { UserError } from '../../foundation/errors.ts'
import { isShouldBroadcast, isShouldQueue } from '../../events/contracts.ts'
import type { BroadcastGateway } from '../../events/dispatch-contracts.ts'
import { showEvent } from '../../events/event-listing.ts'
import { EventValidationError, schemaCheck } from '../../events/event-validation.ts'
import type { CommandHandler } from '../command.ts'
import type { Output } from '../output.ts'
import { oneLine } from '../quote-input.ts'

/** What ran for the dispatch, in order: listeners here, queued listeners, nested events, broadcasts. */
type Step =
  | { readonly kind: 'listener'; readonly name: string; readonly ms: number; readonly error: string | null }
  | { readonly kind: 'queued'; readonly name: string; readonly job: string | null; readonly error: string | null }
  | { readonly kind: 'event'; readonly name: string }
  | { readonly kind: 'broadcast'; readonly as: string; readonly channels: readonly string[]; readonly error: string | null }

/** The payload the options give: `--example` (the catalog's), `--payload=JSON` (an object), or `{}`. */
function payloadOf(options: Readonly<Record<string, unknown>>, name: string, example: unknown): Record<string, unknown> {
  if (options.example === true && options.payload !== undefined) throw new UserError('Give --payload or --example, not both.')
  if (options.example === true) {
    if (example === null || typeof example !== 'object' || Array.isArray(example)) {
      throw new UserError(`Event "${name}" has no example payload (declare static example or a schema): give --payload='{…}'.`)
    }
    return example as Record<string, unknown>
  }
  if (options.payload === undefined) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(String(options.payload))
  } catch (error) {
    throw new UserError(`--payload is not valid JSON: ${errorMessage(error)}.`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError(`--payload must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}.`)
  }
  return parsed as Record<string, unknown>
}

/** The schema's verdict, as one line; with a zod schema, its output (defaults filled in). */
function validated(name: string, schema: unknown, payload: Record<string, unknown>): Record<string, unknown> {
  const check = schemaCheck(name, schema)
  if (check === null) return payload
  try {
    check(payload)
  } catch (error) {
    if (error instanceof EventValidationError) throw new UserError(error.message)
    throw error
  }
  const parse = (schema as { parse?: (data: unknown) => unknown }).parse
  const output = typeof parse === 'function' ? parse.call(schema, payload) : payload
  return output !== null && typeof output === 'object' ? (output as Record<string, unknown>) : payload
}

/**
 * A class event rebuilt from its data, as a queue worker rebuilds one (the prototype, then
 * the fields): no constructor runs, so its positional arguments need no guessing.
 */
function build(eventClass: Function, data: Record<string, unknown>): object {
  return Object.assign(Object.create(eventClass.prototype as object) as object, data)
}

/** Watches the dispatch: each listener (run here or pushed), each event dispatched meanwhile, each broadcast. */
function observe(app: Application, root: string, steps: Step[]): () => void {
  const events = app.make('events')
  const remove = events.use({
    name: 'event:dispatch',
    dispatching: (record) => {
      if (record.name !== root || steps.length > 0) steps.push({ kind: 'event', name: record.name })
    },
    listener: (_record, listener, run) => {
      const started = performance.now()
      const finish = (value: unknown, error: unknown) => {
        const message = error === null ? null : errorMessage(error)
        if (listener.queued) steps.push({ kind: 'queued', name: listener.name, job: typeof value === 'string' ? value : null, error: message })
        else steps.push({ kind: 'listener', name: listener.name, ms: performance.now() - started, error: message })
      }
      let result: unknown
      try {
        result = run()
      } catch (error) {
        finish(undefined, error)
        throw error
      }
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => (finish(value, null), value),
          (error: unknown) => {
            finish(undefined, error)
            throw error
          },
        )
      }
      finish(result, null)
      return result
    },
  })
  const real = events.currentBroadcaster
  if (real === null) return remove
  const watching: BroadcastGateway = {
    broadcast: async (eventName, event) => {
      const message = broadcastMessage(eventName, event, null)
      try {
        const sent = await real.broadcast(eventName, event)
        if (message !== null) steps.push({ kind: 'broadcast', as: message.event, channels: message.channels, error: null })
        return sent
      } catch (error) {
        steps.push({ kind: 'broadcast', as: message?.event ?? eventName, channels: message?.channels ?? [], error: errorMessage(error) })
        throw error
      }
    },
  }
  events.useBroadcaster(watching)
  return () => {
    remove()
    if (events.currentBroadcaster === watching) events.useBroadcaster(real)
  }
}

function print(steps: readonly Step[], output: Output): void {
  if (steps.length === 0) output.line(output.paint('  (no listener ran, nothing was queued or broadcast)', 'dim'))
  for (const step of steps) {
    const failed = (error: string | null) => (error === null ? '' : ` ${output.paint(`FAILED: ${oneLine(error)}`, 'red')}`)
    switch (step.kind) {
      case 'listener':
        output.line(`  ${output.paint('ran', 'green')}       ${oneLine(step.name)} (${step.ms.toFixed(1)} ms)${failed(step.error)}`)
        break
      case 'queued':
        output.line(`  ${output.paint('queued', 'cyan')}    ${oneLine(step.name)}${step.job ? ` (job ${oneLine(step.job)})` : ''}${failed(step.error)}`)
        break
      case 'event':
        output.line(`  ${output.paint('dispatched', 'yellow')} ${oneLine(step.name)}`)
        break
      case 'broadcast':
        output.line(`  ${output.paint('broadcast', 'cyan')} ${oneLine(step.as)} on ${step.channels.map(oneLine).join(', ')}${failed(step.error)}`)
        break
    }
  }
}

/**
 * `artisan event:dispatch Name [--payload=JSON | --example]`: dispatches an event of the catalog
 * from the shell, a class event rebuilt from the payload (checked by its schema first), or a
 * string event with the payload, and prints what ran: the listeners run here, the queued ones
 * (with their job ids), the events they dispatched, the broadcast.
 */
const eventDispatch: CommandHandler = async ({ app, args, options, output }) => {
  if (!app) throw new Error('event:dispatch needs the booted application')
  const events = app.make('events')
  const discovery = app.make('events.discovery')
  const listing = showEvent(events, discovery, args[0]!)
  const name = listing.event
  const eventClass = discovery.events.get(name) ?? events.eventClass(name)
  const schema = eventClass !== undefined ? (eventClass as { schema?: unknown }).schema : discovery.declared.get(name)?.schema
  const payload = validated(name, schema, payloadOf(options, name, listing.example))
  const event = eventClass === undefined ? null : build(eventClass, payload)

  const steps: Step[] = []
  const stop = observe(app, name, steps)
  let error: unknown = null
  try {
    const responses = event === null ? await events.dispatch(name, payload) : await events.dispatch(event)
    await events.settled()
    // A ShouldQueue event goes to the queue whole (no listener runs here): its job id is the response.
    if (eventClass !== undefined && isShouldQueue(eventClass) && !steps.some((step) => step.kind !== 'broadcast')) {
      const job = responses.find((response): response is string => typeof response === 'string')
      steps.push({ kind: 'queued', name: `${name} (the event, for its listeners on a worker)`, job: job ?? null, error: null })
    }
  } catch (thrown) {
    error = thrown
  } finally {
    stop()
  }
  const kind = eventClass === undefined ? 'string event' : `${isShouldBroadcast(eventClass) ? 'broadcast ' : ''}${isShouldQueue(eventClass) ? 'queued ' : ''}event class`
  output.line(`${output.paint('Dispatched', 'green')} ${oneLine(name)} (${kind}) ${output.paint(oneLine(JSON.stringify(payload)), 'dim')}`)
  print(steps, output)
  if (error !== null) {
    output.error(`Event "${oneLine(name)}" failed: ${oneLine(errorMessage(error))}`)
    return 1
  }
  return 0
}

export default eventDispatch
