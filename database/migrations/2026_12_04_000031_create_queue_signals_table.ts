import type { Knex } from 'herald'

/**
 * Signals to every queue worker, whatever its driver: `artisan queue:restart` writes the time of
 * the last restart here (row `restart`), and each `queue:work` (and `serve`'s worker) polls it and
 * exits after its jobs in hand once it changes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('queue_signals', (table) => {
    table.string('name', 64).primary()
    // Epoch milliseconds.
    table.bigInteger('value').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('queue_signals')
}
