import { facadeRoot, type Knex } from 'herald'

/**
 * Versioned events: `event_version` is the event class's `static version` when it was stored
 * (1 for classes without one, and for every row stored before). Loading and replay upcast an
 * older row to the class's current version (src/events/store/upcasting.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(storedEventsTable(), (table) => {
    table.integer('event_version').unsigned().notNullable().defaultTo(1)
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(storedEventsTable(), (table) => {
    table.dropColumn('event_version')
  })
}

function storedEventsTable(): string {
  return facadeRoot().config.get('events').store.table
}
