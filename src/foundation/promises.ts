/** True for a promise or anything with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
}

/**
 * Calls `run` and then `settled(error)` once what it returned has settled: at once for a plain
 * value or a throw, later for a promise (`error` is null on success). What `run` returns or
 * throws passes through unchanged, synchronous when it was.
 */
export function whenSettled(run: () => unknown, settled: (error: unknown) => void): unknown {
  let result: unknown
  try {
    result = run()
  } catch (error) {
    settled(error)
    throw error
  }
  if (!isThenable(result)) {
    settled(null)
    return result
  }
  return Promise.resolve(result).then(
    (value) => {
      settled(null)
      return value
    },
    (error: unknown) => {
      settled(error)
      throw error
    },
  )
}

/**
 * `promise`, or a rejection with "timed out" once `ms` have passed first. The promise is not
 * cancelled: it runs on, and a rejection after the time limit is handled here (the race has
 * subscribed to it), so what it started must settle or be closed by its owner.
 */
export async function timeLimit<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms)))])
  } finally {
    clearTimeout(timer)
  }
}
