import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Which database transaction the current code runs in, so that work declared "after commit"
 * (ShouldDispatchAfterCommit events, `afterCommit` listeners) waits for it and is dropped on
 * rollback. Nested transactions (savepoints) hand their callbacks to the outermost one.
 */
interface TransactionScope {
  readonly callbacks: Array<() => unknown>
  /** The connection the transaction runs on, and the transaction (set once it has begun). */
  readonly owner: unknown
  transaction: unknown
}

const store = new AsyncLocalStorage<TransactionScope>()

/** True inside `runInTransaction`. */
export function inTransaction(): boolean {
  return store.getStore() !== undefined
}

/**
 * The transaction the current code runs in on connection `owner`, if any: writes that must
 * commit or roll back with it (a database queue's job row) go through it. On SQLite, whose one
 * connection the transaction holds, writing beside it would wait forever.
 */
export function currentTransaction<T>(owner: unknown): T | undefined {
  const scope = store.getStore()
  return scope !== undefined && scope.owner === owner ? (scope.transaction as T) : undefined
}

/**
 * Runs `callback` once the surrounding transaction commits (or now, outside one). Resolves
 * when the callback has run or been scheduled.
 */
export async function afterCommit(callback: () => unknown): Promise<void> {
  const scope = store.getStore()
  if (scope === undefined) {
    await callback()
    return
  }
  scope.callbacks.push(callback)
}

/**
 * Wraps a transaction runner (knex's `transaction`): `fn` runs inside the scope; once the
 * outermost transaction commits, the scheduled callbacks run in order; on rollback they are
 * dropped. A callback that fails after the commit rejects the call (the data is committed).
 */
export async function runInTransaction<T, Trx>(
  begin: (body: (trx: Trx) => Promise<T>) => Promise<T>,
  fn: (trx: Trx) => Promise<T> | T,
  owner: unknown = null,
): Promise<T> {
  const outer = store.getStore()
  const scope: TransactionScope = { callbacks: [], owner, transaction: undefined }
  const body = async (trx: Trx) => {
    scope.transaction = trx
    return fn(trx)
  }
  if (outer !== undefined) {
    // A savepoint: its callbacks join the outer transaction only if it is released, not rolled back.
    const result = await store.run(scope, () => begin(body))
    outer.callbacks.push(...scope.callbacks)
    return result
  }
  const result = await store.run(scope, () => begin(body))
  const errors: unknown[] = []
  for (const callback of scope.callbacks) {
    try {
      await callback()
    } catch (error) {
      errors.push(error)
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} after-commit callback(s) failed`)
  return result
}
