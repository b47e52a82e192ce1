import type { DatabaseManager } from '../database/database-manager.ts'
import { explainMissingTable, isMissingTableError } from '../database/missing-table.ts'
import type { Application } from '../foundation/application.ts'

/** The table `artisan queue:restart` writes and workers poll (database/migrations). */
export const QUEUE_SIGNALS_TABLE = 'queue_signals'

const RESTART = 'restart'

/** What a worker polls to learn that `queue:restart` was run since it started. */
export interface RestartSignal {
  /** The time (epoch ms) of the last `queue:restart`, or null when there was none. */
  lastRestart(): Promise<number | null>
}

/**
 * The restart signal in the database, Laravel's `illuminate:queue:restart` cache key: one row of
 * the `queue_signals` table on the failed jobs' database connection (config/queue.ts `failed`),
 * so it reaches the workers of every driver (database, bullmq) on every host that shares it.
 * A worker compares what it reads with what it read at start, never with its own clock, so hosts
 * whose clocks disagree still restart.
 */
export class DatabaseRestartSignal implements RestartSignal {
  constructor(
    private readonly db: DatabaseManager,
    private readonly connection?: string,
    private readonly table: string = QUEUE_SIGNALS_TABLE,
  ) {}

  /**
   * The last restart's time, or null. A missing table reads as "never restarted": a worker of a
   * project not yet migrated keeps working, and restarts on the first `queue:restart` after
   * `artisan migrate`.
   */
  async lastRestart(): Promise<number | null> {
    const knex = await this.db.connection(this.connection)
    try {
      const row = await knex(this.table).where('name', RESTART).first<{ value: number | string } | undefined>('value')
      return row === undefined ? null : Number(row.value)
    } catch (error) {
      if (isMissingTableError(error)) return null
      throw error
    }
  }

  /**
   * Records a restart now (or at `at`), later than any recorded before, and resolves to it. The
   * workers that see it finish their jobs in hand and exit.
   */
  async restart(at: number = Date.now()): Promise<number> {
    const knex = await this.db.connection(this.connection)
    try {
      const previous = await this.lastRestart()
      // Strictly newer, so two restarts in one millisecond are still two changes.
      const value = previous !== null && previous >= at ? previous + 1 : at
      await knex(this.table).insert({ name: RESTART, value }).onConflict('name').merge(['value'])
      return value
    } catch (error) {
      throw explainMissingTable(error, this.table, this.connection ?? this.db.defaultConnection)
    }
  }
}

/** The application's restart signal: on the failed jobs' database connection. */
export function queueRestartSignal(app: Application): DatabaseRestartSignal {
  return new DatabaseRestartSignal(app.make('db'), app.config.get('queue').failed.database)
}
