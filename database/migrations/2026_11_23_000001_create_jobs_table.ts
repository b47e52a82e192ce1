import type { Knex } from 'herald'

/**
 * The database queue's jobs, with Laravel's columns. The three times are unix epoch
 * *milliseconds* (Laravel stores seconds): backoffs such as `[0.05, 0.15]` and delays measured
 * by the conformance tests need sub-second precision, and milliseconds no longer fit 32 bits,
 * hence bigInteger.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('jobs', (table) => {
    table.bigIncrements('id')
    table.string('queue').notNullable()
    // longtext on MySQL/MariaDB, where text stops at 64 KB; text elsewhere.
    table.text('payload', 'longtext').notNullable()
    // Not tinyint as in Laravel: a job with retryUntil may be attempted more than 255 times.
    table.integer('attempts').unsigned().notNullable().defaultTo(0)
    table.bigInteger('reserved_at').unsigned().nullable()
    table.bigInteger('available_at').unsigned().notNullable()
    table.bigInteger('created_at').unsigned().notNullable()
    // Claiming walks one queue in id order and stops at the first available row, so it needs
    // (queue, id); an index on (queue, reserved_at, available_at) would make every claim sort
    // all the waiting rows to find the oldest.
    table.index(['queue', 'id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('jobs')
}
