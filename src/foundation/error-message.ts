/**
 * The message of what was thrown: an Error's `message`, anything else as a string.
 *
 * ```ts
 * try { await job() } catch (error) { logger.warn(`The job failed: ${errorMessage(error)}`) }
 * ```
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
