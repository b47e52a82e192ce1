/** An error that answers with its HTTP status and message (a 4xx the client caused). */
export class HttpError extends Error {
  override readonly name = 'HttpError'

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** Field errors, Laravel's shape: each field's messages. */
export type FieldErrors = Record<string, string[]>

/**
 * Input that failed validation: 422 with `{ message, errors }` as Laravel answers it
 * (`The quantity field must be at least 1. (and 1 more error)`).
 */
export class ValidationError extends HttpError {
  constructor(readonly errors: FieldErrors) {
    const messages = Object.values(errors).flat()
    const more = messages.length - 1
    super(422, `${messages[0] ?? 'The given data was invalid.'}${more > 0 ? ` (and ${more} more error${more > 1 ? 's' : ''})` : ''}`)
  }
}
