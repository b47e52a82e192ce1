import { explainMissingTable } from '../../database/missing-table.ts'
import type { StoredEventsTable } from './stored-events-table.ts'

/** An aggregate's state at a version of its stream. */
export interface Snapshot {
  readonly streamId: string
  /** The version of the last event the state includes. */
  readonly version: number
  /** The aggregate's class name, for people reading the table. */
  readonly aggregate: string
  /** What `toSnapshot()` returned, rebuilt by the queue serializer (Date, Map, Set, BigInt kept). */
  readonly state: unknown
  readonly createdAt: Date
}

interface SnapshotRow {
  stream_id: string
  version: number | string
  aggregate: string
  state: string
  created_at: number | string
}

/**
 * The snapshots of event-sourced aggregates, in `<store table>_snapshots`: one row per stream,
 * its latest. A snapshot is a cache of the stream: deleting rows (after changing an aggregate's
 * state shape, say) only makes the next `retrieve` apply the whole stream.
 *
 * ```ts
 * const snapshots = new Snapshots(table)
 * await snapshots.save({ streamId: 'account-1', version: 100, aggregate: 'Account', state: { balance: 30 } })
 * const latest = await snapshots.latest('account-1')   // { version: 100, state: { balance: 30 }, … }
 * ```
 */
export class Snapshots {
  constructor(private readonly table: StoredEventsTable) {}

  /** The table's name: the event store's, with `_snapshots`. */
  get name(): string {
    return `${this.table.name}_snapshots`
  }

  /** The stream's latest snapshot, or null when it has none. */
  async latest(streamId: string): Promise<Snapshot | null> {
    const db = await this.table.query()
    let row: SnapshotRow | undefined
    try {
      row = (await db(this.name).where('stream_id', streamId).orderBy('version', 'desc').first()) as SnapshotRow | undefined
    } catch (error) {
      throw this.explain(error)
    }
    if (row === undefined) return null
    return {
      streamId: row.stream_id,
      version: Number(row.version),
      aggregate: row.aggregate,
      state: this.table.decodeState(row.state),
      createdAt: new Date(Number(row.created_at)),
    }
  }

  /**
   * Stores a snapshot (its state redacted and encoded) and drops the stream's older ones. Saving
   * one that is there already (another process got there first) changes nothing.
   */
  async save(snapshot: Omit<Snapshot, 'createdAt'>): Promise<void> {
    const row: SnapshotRow = {
      stream_id: snapshot.streamId,
      version: snapshot.version,
      aggregate: snapshot.aggregate,
      state: this.table.encodeState(snapshot.state),
      created_at: Date.now(),
    }
    const db = await this.table.query()
    try {
      await db(this.name).insert(row).onConflict(['stream_id', 'version']).ignore()
      await db(this.name).where('stream_id', snapshot.streamId).andWhere('version', '<', snapshot.version).delete()
    } catch (error) {
      throw this.explain(error)
    }
  }

  private explain(error: unknown): unknown {
    return explainMissingTable(error, this.name, this.table.connectionName)
  }
}
