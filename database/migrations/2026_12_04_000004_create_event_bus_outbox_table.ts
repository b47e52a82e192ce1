import type { Knex } from 'herald'

/**
 * The event bus's outbox: events published inside a transaction wait here, written with it,
 * until the relay has sent them to the bus (not `outbox`: that is the demo's mail table).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('event_bus_outbox', (table) => {
    table.bigIncrements('id')
    table.string('event_id', 26).notNullable()
    table.string('name').notNullable()
    table.text('payload', 'longtext').notNullable()
    // Epoch milliseconds.
    table.bigInteger('published_at').notNullable()
    table.string('source').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('event_bus_outbox')
}
