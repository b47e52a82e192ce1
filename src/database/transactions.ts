import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Which database transaction the current code runs in, so that work declared "after commit"
 * (ShouldDispatchAfterCommit events, `afterCommit` listeners) waits for it and is dropped on
 * rollback. Nested transactions (savepoints) hand their callbacks to the outermost one.
 */
interface TransactionScope {
  readonly callbacks: Array<() => unknown>
}

const store = new AsyncLocalStorage<TransactionScope>()

/** True inside `runInTransaction`. */
export function inTransaction(): boolean {
  return store.getStore() !== undefined
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
): Promise<T> {
  const outer = store.getStore()
  const scope: TransactionScope = { callbacks: [] }
  if (outer !== undefined) {
    // A savepoint: its callbacks join the outer transaction only if it is released, not rolled back.
    const result = await store.run(scope, () => begin(async (trx) => fn(trx)))
    outer.callbacks.push(...scope.callbacks)
    return result
  }
  const result = await store.run(scope, () => begin(async (trx) => fn(trx)))
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
