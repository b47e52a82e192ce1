import { createMigrator } from '../../database/migrator.ts'
import type { CommandHandler } from '../command.ts'
import { text } from '../generator/command-options.ts'
import { onDatabase } from '../service-failure.ts'

/**
 * `artisan migrate:status [--database=name]`: each migration, ran (with its batch) or pending,
 * laid out like Laravel's:
 *
 * ```
 * Migration name ............................................. Batch / Status
 * 2026_11_23_000001_create_jobs_table ........................ [1] Ran
 * 2026_11_23_000002_create_failed_jobs_table ................. Pending
 * ```
 */
const migrateStatus: CommandHandler = async ({ boot, options, output }) => {
  const app = await boot()
  const database = text(options, 'database')
  const migrations = await onDatabase(app, database, async () => (await createMigrator(app, database)).status())
  if (migrations.length === 0) {
    output.line('No migrations found.')
    return 0
  }
  const width = Math.max(60, ...migrations.map((migration) => migration.name.length + 4))
  output.line(`${output.paint('Migration name', 'green')} ${'.'.repeat(width - 'Migration name'.length)} ${output.paint('Batch / Status', 'green')}`)
  for (const { name, ran, batch, missing } of migrations) {
    const status = ran
      ? `[${batch}] ${output.paint('Ran', 'green')}${missing ? ` ${output.paint('(file missing)', 'red')}` : ''}`
      : output.paint('Pending', 'yellow')
    output.line(`${name} ${output.paint('.'.repeat(width - name.length), 'dim')} ${status}`)
  }
  return 0
}

export default migrateStatus
