import type { Knex } from 'herald'

/** Jobs that failed for good, whatever their queue driver: `queue:failed`, `queue:retry` read it. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('failed_jobs', (table) => {
    table.bigIncrements('id')
    // A string, not a uuid column: a garbage payload may carry any text as its "uuid".
    table.string('uuid').notNullable().unique()
    table.text('connection').notNullable()
    table.text('queue').notNullable()
    table.text('payload', 'longtext').notNullable()
    table.text('exception', 'longtext').notNullable()
    table.timestamp('failed_at').notNullable().defaultTo(knex.fn.now())
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('failed_jobs')
}
