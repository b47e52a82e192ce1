/**
 * A stored job (or event) that cannot be decoded: malformed JSON, an envelope field of the
 * wrong type, or a tagged value that does not rebuild (`{"$t":"Date","v":"not a date"}`). The
 * job fails with this reason at once, without retries, and lands in failed jobs, where
 * `queue:failed` shows the message:
 *
 * ```text
 * PayloadDecodeError: payload.order.placedAt: "not a date" is not a valid Date
 * ```
 */
export class PayloadDecodeError extends Error {
  override readonly name = 'PayloadDecodeError'
  /** Where the bad value sits (`payload.order.placedAt`, `envelope.attempts`), or null for the whole payload. */
  readonly path: string | null
  /** What is wrong with it, without the path. */
  readonly reason: string

  constructor(reason: string, path: string | null = null) {
    super(path === null ? reason : `${path}: ${reason}`)
    this.path = path
    this.reason = reason
  }
}
