import { createMigrator } from '../../database/migrator.ts'
import type { CommandHandler } from '../command.ts'
import { text } from '../generator/command-options.ts'
import { onDatabase } from '../service-failure.ts'

/** `artisan migrate [--database=name]`: runs the pending migrations as one batch. */
const migrate: CommandHandler = async ({ boot, options, output }) => {
  const app = await boot()
  const database = text(options, 'database')
  const runs = await onDatabase(app, database, async () => (await createMigrator(app, database)).latest())
  if (runs.length === 0) {
    output.line('Nothing to migrate.')
    return 0
  }
  for (const { name, milliseconds } of runs) {
    output.line(`${output.paint('Migrated:', 'green')} ${name} (${Math.round(milliseconds)} ms)`)
  }
  return 0
}

export default migrate
