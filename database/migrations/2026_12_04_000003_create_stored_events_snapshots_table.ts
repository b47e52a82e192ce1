import { facadeRoot, type Knex } from 'herald'

/**
 * Aggregate snapshots (AggregateRoot's `static snapshotEvery`): an aggregate's state at a
 * version of its stream, so `retrieve` applies only the events after it. Named after the event
 * store's table (`stored_events_snapshots` for EVENTS_STORE_TABLE=stored_events). `state` is the
 * queue serializer's JSON, after redaction; only the latest snapshot of a stream is kept.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(snapshotsTable(), (table) => {
    table.string('stream_id').notNullable()
    table.integer('version').unsigned().notNullable()
    table.string('aggregate').notNullable()
    // longtext on MySQL/MariaDB, where text stops at 64 KB; text elsewhere.
    table.text('state', 'longtext').notNullable()
    table.bigInteger('created_at').unsigned().notNullable()
    table.primary(['stream_id', 'version'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(snapshotsTable())
}

function snapshotsTable(): string {
  return `${facadeRoot().config.get('events').store.table}_snapshots`
}
