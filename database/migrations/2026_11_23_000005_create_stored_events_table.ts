import { facadeRoot, type Knex } from 'herald'

/**
 * The event store (config/events.ts `store`, EVENTS_STORE_TABLE): every dispatched event when
 * EVENTS_STORE_ENABLED, and the streams of event-sourced aggregates. Ids are ULIDs, so the
 * primary key is also the order events happened in; `occurred_at` is epoch milliseconds, as
 * the queue tables' times. A stream's events have a version from 1, unique per stream: two
 * appends racing for the same version cannot both commit (optimistic concurrency).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(storedEventsTable(), (table) => {
    table.string('id', 26).primary()
    table.string('name').notNullable()
    // longtext on MySQL/MariaDB, where text stops at 64 KB; text elsewhere. JSON, after redaction.
    table.text('payload', 'longtext').notNullable()
    table.text('tags').notNullable()
    // Not 26: a correlation id may come from a request (an X-Correlation-ID header).
    table.string('correlation_id').notNullable().index()
    table.string('causation_id').nullable()
    table.string('stream_id').nullable()
    table.integer('version').unsigned().nullable()
    table.bigInteger('occurred_at').unsigned().notNullable().index()
    table.unique(['stream_id', 'version'])
    table.index(['name', 'id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(storedEventsTable())
}

function storedEventsTable(): string {
  return facadeRoot().config.get('events').store.table
}
