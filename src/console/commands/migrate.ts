import { createMigrator } from '../../database/migrator.ts'
import type { CommandHandler } from '../command.ts'

/** `artisan migrate [--database=name]`: runs the pending migrations as one batch. */
const migrate: CommandHandler = async ({ boot, options, output }) => {
  const migrator = await createMigrator(await boot(), options.database as string | undefined)
  const runs = await migrator.latest()
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
