/**
 * An append to a stream expected it at one version and found it at another: someone else
 * appended first. Load the aggregate again, re-run the command, and append again.
 *
 * ```ts
 * try {
 *   await store.append('order-7', [new OrderShipped(7)], 3)
 * } catch (error) {
 *   if (error instanceof ConcurrencyError) retry()   // error.actualVersion is where the stream is now
 * }
 * ```
 */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError'

  constructor(
    readonly streamId: string,
    readonly expectedVersion: number | 'any',
    readonly actualVersion: number,
  ) {
    super(
      expectedVersion === 'any'
        ? `Stream "${streamId}" kept changing while appending to it (now at version ${actualVersion}): try again.`
        : `Stream "${streamId}" is at version ${actualVersion}, not the expected ${expectedVersion}: another append came first. Load it again and retry.`,
    )
  }
}
