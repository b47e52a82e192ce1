import { createMigrator } from '../../database/migrator.ts'
import type { CommandHandler } from '../command.ts'
import { text } from '../generator/command-options.ts'
import { onDatabase } from '../service-failure.ts'

/** `artisan migrate:rollback [--database=name]`: reverts the last batch of migrations. */
const migrateRollback: CommandHandler = async ({ boot, options, output }) => {
  const app = await boot()
  const database = text(options, 'database')
  const runs = await onDatabase(app, database, async () => (await createMigrator(app, database)).rollback())
  if (runs.length === 0) {
    output.line('Nothing to rollback.')
    return 0
  }
  for (const { name, milliseconds } of runs) {
    output.line(`${output.paint('Rolled back:', 'yellow')} ${name} (${Math.round(milliseconds)} ms)`)
  }
  return 0
}

export default migrateRollback
