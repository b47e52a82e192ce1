/** Where a command writes. Colour only when asked for and the stream is a terminal. */
export interface OutputStreams {
  stdout: { write(chunk: string): unknown; isTTY?: boolean }
  stderr: { write(chunk: string): unknown; isTTY?: boolean }
}

const codes = { green: 32, yellow: 33, red: 31, cyan: 36, dim: 2, bold: 1 } as const
export type Colour = keyof typeof codes

/** A command's output: lines on stdout, errors on stderr, optional ANSI colour. */
export class Output {
  constructor(
    private readonly streams: OutputStreams,
    readonly ansi: boolean,
  ) {}

  paint(text: string, colour: Colour): string {
    return this.ansi ? `\u001b[${codes[colour]}m${text}\u001b[0m` : text
  }

  line(text = ''): void {
    this.streams.stdout.write(`${text}\n`)
  }

  /** Writes without a newline: a progress bar redrawn with `\r`. */
  write(text: string): void {
    this.streams.stdout.write(text)
  }

  /** True when stdout is a terminal: progress is drawn in place, not printed line by line. */
  get interactive(): boolean {
    return this.streams.stdout.isTTY === true
  }

  /** A table: a painted header, then each row, columns padded to their widest cell. */
  table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
    const format = (row: readonly string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()
    this.line(this.paint(format(header), 'yellow'))
    for (const row of rows) this.line(format(row))
  }

  /** A warning: a yellow line on stderr. */
  warn(text: string): void {
    this.streams.stderr.write(`${this.paint(text, 'yellow')}\n`)
  }

  error(text: string): void {
    this.streams.stderr.write(`${this.paint(text, 'red')}\n`)
  }

  json(value: unknown): void {
    this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
  }
}
