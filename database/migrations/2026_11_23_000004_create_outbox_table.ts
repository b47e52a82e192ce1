import type { Knex } from 'herald'

/** Mail the demo would send, written by the queued SendOrderConfirmation listener. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox', (table) => {
    table.bigIncrements('id')
    table.bigInteger('order_id').unsigned().notNullable().index()
    table.string('to').notNullable()
    table.string('subject').notNullable()
    table.text('body').notNullable()
    table.bigInteger('created_at').unsigned().notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('outbox')
}
