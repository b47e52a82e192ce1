import type { Knex } from 'herald'

/** The demo shop's orders (POST /orders). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orders', (table) => {
    table.bigIncrements('id')
    table.integer('user_id').unsigned().notNullable()
    table.string('email').notNullable()
    table.string('sku').notNullable()
    table.integer('quantity').unsigned().notNullable()
    // Cents, so that totals add up exactly.
    table.integer('total_cents').unsigned().notNullable()
    // Set by the form's "warehouse outage" box: NotifyWarehouse fails until it is cleared.
    table.boolean('fail_warehouse').notNullable().defaultTo(false)
    table.bigInteger('warehouse_notified_at').unsigned().nullable()
    table.bigInteger('created_at').unsigned().notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('orders')
}
