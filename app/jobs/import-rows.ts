import { setTimeout as sleep } from 'node:timers/promises'
import { Job, type JobOptions } from 'herald'

/**
 * The demo's batch job: "imports" a range of rows (a short wait per row), so the dashboard's
 * batch progress bar has something to show. Started by the dashboard's "Start an import" button.
 */
export default class ImportRows extends Job implements JobOptions {
  tries = 1
  constructor(
    readonly from: number,
    readonly to: number,
    readonly msPerRow = 20,
  ) {
    super()
  }

  async handle() {
    for (let row = this.from; row <= this.to; row++) await sleep(this.msPerRow, undefined, { signal: this.signal })
  }
}
