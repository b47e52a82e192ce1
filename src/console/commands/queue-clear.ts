import type { CommandHandler } from '../command.ts'

/** `artisan queue:clear [connection] [--queue=name]`: deletes the waiting jobs of a queue. */
const queueClear: CommandHandler = async ({ app, args, options, output }) => {
  if (!app) throw new Error('queue:clear needs the booted application')
  const manager = app.make('queue')
  const connection = args[0] ?? manager.defaultConnection
  const queue = typeof options.queue === 'string' ? options.queue : manager.defaultQueue(connection)
  const count = await (await manager.connection(connection)).clear(queue)
  output.line(`Cleared ${count} job(s) from ${connection}:${queue}.`)
  return 0
}

export default queueClear
