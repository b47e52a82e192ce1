/**
 * Gathers the database queue's pushes of one turn of the event loop into one multi-row INSERT:
 * a dispatch that queues several listeners (they are pushed side by side) costs one round trip,
 * as do many requests dispatching at the same moment. Pushes inside a transaction are gathered
 * per transaction, and written through it, so each commits or rolls back with its own.
 */

/** A job row as a push makes it. */
export interface PushRow {
  readonly queue: string
  readonly payload: string
  readonly availableAt: number
  readonly createdAt: number
}

interface Waiting {
  readonly row: PushRow
  readonly resolve: (id: string) => void
  readonly reject: (error: unknown) => void
}

/** Outside any transaction. */
const NO_TRANSACTION = Symbol('no transaction')

export class PushBatcher<Trx extends object> {
  private readonly groups = new Map<Trx | typeof NO_TRANSACTION, Waiting[]>()

  /** `insert` writes rows (through `trx` when set) and resolves to their ids, in order. */
  constructor(private readonly insert: (rows: readonly PushRow[], trx: Trx | undefined) => Promise<readonly string[]>) {}

  /** Resolves to the row's id once the INSERT carrying it is done. */
  push(row: PushRow, trx: Trx | undefined): Promise<string> {
    const key = trx ?? NO_TRANSACTION
    let group = this.groups.get(key)
    if (group === undefined) {
      group = []
      this.groups.set(key, group)
      setImmediate(() => void this.flush(key, trx))
    }
    const waiting = group
    return new Promise((resolve, reject) => waiting.push({ row, resolve, reject }))
  }

  private async flush(key: Trx | typeof NO_TRANSACTION, trx: Trx | undefined): Promise<void> {
    const group = this.groups.get(key) ?? []
    this.groups.delete(key)
    try {
      const ids = await this.insert(
        group.map((waiting) => waiting.row),
        trx,
      )
      group.forEach((waiting, i) => waiting.resolve(ids[i]!))
    } catch (error) {
      for (const waiting of group) waiting.reject(error)
    }
  }
}
