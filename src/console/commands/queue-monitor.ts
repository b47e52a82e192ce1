import { UserError } from '../../foundation/errors.ts'
import type { CommandHandler } from '../command.ts'

/**
 * `artisan queue:monitor conn:queue,... [--max=N]`: each queue's size, flagged when above
 * `--max` (exit 1 then, so a cron job can alert on it).
 */
const queueMonitor: CommandHandler = async ({ app, args, options, output }) => {
  if (!app) throw new Error('queue:monitor needs the booted application')
  const manager = app.make('queue')
  const names = (args[0] ?? '').split(',').map((name) => name.trim()).filter(Boolean)
  if (names.length === 0) throw new UserError('Name the queues to monitor: queue:monitor database:default,bullmq:emails.')
  const max = options.max === undefined ? Infinity : Number(options.max)
  if (Number.isNaN(max)) throw new UserError(`--max must be a number, got "${String(options.max)}".`)
  const rows: Array<{ connection: string; queue: string; size: number; alert: boolean }> = []
  for (const name of names) {
    const [connection, queue] = name.includes(':') ? (name.split(':', 2) as [string, string]) : [manager.defaultConnection, name]
    const size = await (await manager.connection(connection)).size(queue)
    rows.push({ connection, queue, size, alert: size > max })
  }
  if (options.json === true) output.json(rows)
  else {
    for (const row of rows) {
      const status = row.alert ? output.paint('ALERT', 'red') : output.paint('OK', 'green')
      output.line(`  ${`${row.connection}:${row.queue}`.padEnd(30)} ${String(row.size).padStart(8)}  ${status}`)
    }
  }
  return rows.some((row) => row.alert) ? 1 : 0
}

export default queueMonitor
