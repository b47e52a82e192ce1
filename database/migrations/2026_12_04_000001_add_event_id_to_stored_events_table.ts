import { facadeRoot, type Knex } from 'herald'

/**
 * Idempotent appends: `event_id` is a stream event's own id (its `eventId` property, or the id
 * the store gave the object), unique per stream, so appending the same event again (a retried
 * command) stores nothing. Stream rows stored before this migration keep their row id as it.
 */
export async function up(knex: Knex): Promise<void> {
  const table = storedEventsTable()
  await knex.schema.alterTable(table, (columns) => {
    columns.string('event_id').nullable()
  })
  await knex(table).whereNotNull('stream_id').update({ event_id: knex.ref('id') })
  await knex.schema.alterTable(table, (columns) => {
    columns.unique(['stream_id', 'event_id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  const table = storedEventsTable()
  await knex.schema.alterTable(table, (columns) => {
    columns.dropUnique(['stream_id', 'event_id'])
  })
  await knex.schema.alterTable(table, (columns) => {
    columns.dropColumn('event_id')
  })
}

function storedEventsTable(): string {
  return facadeRoot().config.get('events').store.table
}
