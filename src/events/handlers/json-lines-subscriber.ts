import { appendFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Dispatcher } from '../dispatcher.ts'
import type { Redactor } from '../redaction.ts'
import { eventDocument, toJson, type EventDocument } from './event-document.ts'

export interface JsonLinesOptions {
  /** Write once this many bytes are buffered. Default 64 KiB. */
  readonly flushBytes?: number
  /** Write what is buffered at least this often, in milliseconds. Default 1000. */
  readonly flushInterval?: number
  /** Where a background write's failure goes (the application's logger); `close()` rejects instead. */
  readonly report?: (error: unknown) => void
}

/**
 * Appends one JSON object per event to a file (EVENTS_JSONL_PATH), `{ id, name, occurred_at,
 * correlation_id, payload }` with the payload redacted: buffered, written when the buffer is
 * large and every second, and on `close()` (the application's shutdown).
 *
 * Each write opens the path anew (append, create), so a rotated file is simply left behind:
 * after logrotate renames or removes it, the next write creates a new file at the path. One
 * open per write is cheap next to the events it carries; a handle kept open would go on
 * writing into the renamed file.
 *
 * ```ts
 * const lines = new JsonLinesSubscriber('storage/logs/events.jsonl', redact)
 * events.subscribe(lines)
 * app.onShutdown(() => lines.close())
 * ```
 */
export class JsonLinesSubscriber {
  private buffer: string[] = []
  private buffered = 0
  /** The writes in order: each waits for the one before. */
  private writing: Promise<void> = Promise.resolve()
  private readonly timer: NodeJS.Timeout
  private readonly flushBytes: number
  private readonly report: (error: unknown) => void
  private closed = false

  constructor(
    readonly path: string,
    private readonly redact: Redactor,
    options: JsonLinesOptions = {},
  ) {
    this.flushBytes = options.flushBytes ?? 64 * 1024
    this.report = options.report ?? ((error) => process.emitWarning(error instanceof Error ? error : String(error)))
    this.timer = setInterval(() => this.flushInBackground(), options.flushInterval ?? 1000)
    // The interval must not keep a finished process (a command, a test) alive.
    this.timer.unref()
  }

  subscribe(events: Dispatcher): void {
    events.listen('*', (name: string, payload: unknown) => this.append(eventDocument(name, payload, this.redact)))
  }

  /** Buffers one document; past `flushBytes` (or once closed) it is written at once. */
  append(document: EventDocument): void {
    const line = `${toJson(document)}\n`
    this.buffer.push(line)
    this.buffered += line.length
    if (this.buffered >= this.flushBytes || this.closed) this.flushInBackground()
  }

  /** Writes what is buffered; resolves once it is in the file (after any earlier write). */
  flush(): Promise<void> {
    if (this.buffer.length === 0) return this.writing
    const chunk = this.buffer.join('')
    this.buffer = []
    this.buffered = 0
    // An earlier write's failure was reported by its caller: this one goes ahead regardless.
    this.writing = this.writing.catch(() => undefined).then(() => this.write(chunk))
    return this.writing
  }

  /** Stops the timer and writes the rest: what the application's shutdown awaits. */
  close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    return this.flush()
  }

  private flushInBackground(): void {
    if (this.buffer.length > 0) this.flush().catch(this.report)
  }

  private async write(chunk: string): Promise<void> {
    try {
      await appendFile(this.path, chunk)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      await mkdir(dirname(this.path), { recursive: true })
      await appendFile(this.path, chunk)
    }
  }
}
