import type { Output } from './output.ts'

const WIDTH = 28

/**
 * A command's progress bar. On a terminal it is redrawn in place (`\r`); otherwise (a pipe, a
 * log, a test) nothing is drawn until `finish()`, which prints one line: `10/10 [done]`.
 */
export class ProgressBar {
  private current = 0
  private finished = false

  constructor(
    private readonly output: Output,
    readonly total: number,
  ) {
    if (!Number.isInteger(total) || total < 0) throw new RangeError(`A progress bar needs a whole number of steps, got ${total}.`)
    this.draw()
  }

  get value(): number {
    return this.current
  }

  advance(steps = 1): void {
    this.current = Math.min(this.total, this.current + steps)
    this.draw()
  }

  finish(): void {
    if (this.finished) return
    this.finished = true
    this.current = this.total
    if (this.output.interactive) {
      this.draw()
      this.output.write('\n')
    } else {
      this.output.line(`${this.current}/${this.total} [done]`)
    }
  }

  private draw(): void {
    if (!this.output.interactive) return
    const filled = this.total === 0 ? WIDTH : Math.round((this.current / this.total) * WIDTH)
    this.output.write(`\r${this.current}/${this.total} [${'='.repeat(filled)}${' '.repeat(WIDTH - filled)}]`)
  }
}
