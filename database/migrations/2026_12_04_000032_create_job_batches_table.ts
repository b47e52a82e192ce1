import type { Knex } from 'herald'

/**
 * Job batches (`Bus.batch([...])`), with Laravel's columns. Counts are changed only by single
 * atomic UPDATEs (alone, or inside a transaction that holds the row's lock), so concurrent
 * workers never lose one.
 * The times are unix epoch milliseconds, as in the jobs table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_batches', (table) => {
    table.string('id', 64).primary()
    table.string('name').notNullable().defaultTo('')
    table.integer('total_jobs').notNullable()
    table.integer('pending_jobs').notNullable()
    table.integer('failed_jobs').notNullable()
    // JSON lists of the failed jobs' uuids and of the encoded callbacks and options.
    table.text('failed_job_ids', 'longtext').notNullable()
    table.text('options', 'longtext').notNullable()
    table.bigInteger('cancelled_at').nullable()
    table.bigInteger('created_at').notNullable()
    table.bigInteger('finished_at').nullable()
    table.index(['finished_at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('job_batches')
}
