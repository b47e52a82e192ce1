import { UserError } from '../foundation/errors.ts'
import type { TaskReport } from '../scheduling/schedule-runner.ts'
import type { Output } from './output.ts'

/**
 * The clock of a schedule command: the system's, or, with `--now=<ISO time>` (a testing aid),
 * one that starts at that instant and runs on from it in real time.
 */
export function scheduleClock(options: Readonly<Record<string, unknown>>): () => Date {
  const raw = options.now
  if (raw === undefined) return () => new Date()
  const at = typeof raw === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(raw) ? Date.parse(raw) : Number.NaN
  if (Number.isNaN(at)) throw new UserError(`--now must be an ISO time with its offset, such as 2026-12-04T08:00:00Z, got "${String(raw)}".`)
  const offset = at - Date.now()
  return () => new Date(Date.now() + offset)
}

/** `2026-12-04 08:00` of `date` in `timezone`. */
export function formatInZone(date: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(date)
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? ''
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`
}

/** One line per task run, as queue:work prints jobs. */
export function taskLine(report: TaskReport, output: Output): string {
  const time = report.scheduledAt.toISOString().replace('T', ' ').slice(0, 16)
  const ms = report.status === 'SKIP' ? (report.reason ?? '') : `${report.ms.toFixed(2)}ms`
  const dots = '.'.repeat(Math.max(3, 60 - report.name.length - ms.length))
  const colour = report.status === 'DONE' ? 'green' : report.status === 'FAIL' ? 'red' : 'yellow'
  const error = report.error ? `  ${output.paint(report.error, 'dim')}` : ''
  return `  ${output.paint(time, 'dim')} ${report.name} ${output.paint(dots, 'dim')} ${ms} ${output.paint(report.status, colour)}${error}`
}
