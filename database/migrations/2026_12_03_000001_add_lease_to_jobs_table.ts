import type { Knex } from 'herald'

/**
 * Leases for the database queue: `lease_expires_at` (epoch milliseconds) is when a reserved
 * job stops being its worker's unless the worker renews it (src/queue/drivers/database-leases.ts).
 * `reserved_at` stays the claim's token. Rows reserved before this migration get the reclaim
 * time they had (the old default retry_after, 90 s), so none is stuck or reclaimed early. Stop
 * the workers of the previous version before migrating: they do not renew leases.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (table) => {
    table.bigInteger('lease_expires_at').unsigned().nullable()
  })
  await knex('jobs')
    .whereNotNull('reserved_at')
    .update({ lease_expires_at: knex.raw('reserved_at + ?', [90_000]) })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (table) => {
    table.dropColumn('lease_expires_at')
  })
}
