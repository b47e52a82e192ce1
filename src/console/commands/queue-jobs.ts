import { errorMessage } from '../../foundation/error-message.ts'
import { resolveEventQueueOptions } from '../../queue/queue-options.ts'
import type { CommandHandler } from '../command.ts'

/** A job class as `queue:jobs` shows it: where it is and where a plain `dispatch()` sends it. */
interface JobListing {
  readonly name: string
  readonly file: string
  readonly connection: string
  readonly queue: string
  /** null: the worker's `--tries` decides. */
  readonly tries: number | null
  /** Seconds before each retry; null: the worker's `--backoff`. */
  readonly backoff: number[] | null
  /** Seconds per attempt; null: the worker's `--timeout`. */
  readonly timeout: number | null
  /** Options the job computes (methods): shown as a job built with no arguments computes them. */
  readonly computed: readonly string[]
  /** Why the options could not be read (a constructor that needs its arguments): defaults shown. */
  readonly note?: string
}

const OPTION_KEYS = ['connection', 'viaConnection', 'queue', 'viaQueue', 'tries', 'backoff', 'timeout'] as const

/**
 * `artisan queue:jobs [--json]`: the job classes found in app/jobs at boot, each with its file and
 * the queue options a plain `dispatch()` gives it: connection and queue (the job's, else the
 * defaults), tries, backoff and timeout (the job's, else EVENTS_RETRY_* , else the worker's
 * flags). Options are read off a job built with no arguments, as a worker reads a listener's.
 */
const queueJobs: CommandHandler = async ({ app, options, output }) => {
  if (!app) throw new Error('queue:jobs needs the booted application')
  const manager = app.make('queue')
  const defaults = app.config.get('events').queued
  const listings: JobListing[] = app.make('jobs.discovered').map(({ name, file, job }) => {
    let probe: Record<string, unknown> | null = null
    let note: string | undefined
    try {
      probe = new (job as new () => Record<string, unknown>)()
    } catch (error) {
      note = `its options could not be read: new ${name}() threw (${errorMessage(error)}); defaults shown`
    }
    const read = probe === null ? null : resolveEventQueueOptions(probe)
    const value = <T>(get: (options: NonNullable<typeof read>) => T, fallback: T): T => {
      if (read === null) return fallback
      try {
        return get(read)
      } catch (error) {
        note ??= `an option threw on a job built with no arguments (${errorMessage(error)}); its default is shown`
        return fallback
      }
    }
    const connection = value((o) => o.connection(probe), undefined) ?? manager.defaultConnection
    const queue = value((o) => o.queue(probe), undefined) ?? defaults.queue ?? manager.defaultQueue(connection)
    const computed = probe === null ? [] : OPTION_KEYS.filter((key) => typeof probe[key] === 'function').map((key) => key.replace(/^via(\w)/, (_, letter: string) => letter.toLowerCase()))
    return {
      name,
      file,
      connection,
      queue,
      tries: value((o) => o.tries(probe), null) ?? defaults.tries,
      backoff: value((o) => o.backoff(probe), null) ?? (defaults.backoff === null ? null : [defaults.backoff]),
      timeout: value((o) => o.timeout(probe), null),
      computed: [...new Set(computed)],
      ...(note !== undefined && { note }),
    }
  })
  if (options.json === true) {
    output.json(listings)
    return 0
  }
  if (listings.length === 0) {
    const off = app.config.get('events').discovery ? '' : ' (discovery is off: EVENTS_DISCOVERY=false)'
    output.line(`No job classes in app/jobs${off}. Make one with: artisan make:job ProcessPodcast`)
    return 0
  }
  const shown = (listing: JobListing, key: string, text: string) => (listing.computed.includes(key) ? `${text}*` : text)
  const rows = listings.map((listing) => [
    listing.name,
    listing.file,
    shown(listing, 'connection', listing.connection),
    shown(listing, 'queue', listing.queue),
    shown(listing, 'tries', listing.tries === null ? '-' : String(listing.tries)),
    shown(listing, 'backoff', listing.backoff === null ? '-' : listing.backoff.join(',')),
    shown(listing, 'timeout', listing.timeout === null ? '-' : String(listing.timeout)),
  ])
  output.table(['Job', 'File', 'Connection', 'Queue', 'Tries', 'Backoff (s)', 'Timeout (s)'], rows)
  const legend = [
    ...(rows.some((row) => row.slice(4).some((cell) => cell.startsWith('-'))) ? ["- : the worker's --tries / --backoff / --timeout decide"] : []),
    ...(listings.some((listing) => listing.computed.length > 0) ? ['* : computed by the job (a method), as for a job built with no arguments'] : []),
  ]
  if (legend.length > 0) output.line(`\n${legend.join('; ')}.`)
  for (const listing of listings) if (listing.note !== undefined) output.line(`${listing.name}: ${listing.note}`)
  return 0
}

export default queueJobs
