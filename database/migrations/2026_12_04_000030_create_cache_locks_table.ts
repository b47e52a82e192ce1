import type { Knex } from 'herald'

/**
 * Locks that must hold across processes when the queue runs on the database (unique jobs,
 * WithoutOverlapping), Laravel's `cache_locks`: one row per held key, with its owner's token.
 * `expiration` is epoch milliseconds, null for a lock held until it is released; an expired
 * row is taken over by the next taker.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cache_locks', (table) => {
    table.string('key', 255).primary()
    table.string('owner', 64).notNullable()
    table.bigInteger('expiration').nullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('cache_locks')
}
