/** A payload schema: zod's `safeParse` (or anything shaped like it). */
interface PayloadSchema {
  safeParse(data: unknown): { success: boolean; error?: { issues?: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } }
}

/** An event's payload failed its class's `static schema`: thrown before any listener runs. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError'

  constructor(
    readonly eventName: string,
    readonly issues: ReadonlyArray<{ readonly path: string; readonly message: string }>,
  ) {
    super(`Event "${eventName}" has an invalid payload: ${issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ')}`)
  }
}

/**
 * The check an event class's `static schema` makes (on the event's enumerable own properties),
 * or null without one.
 *
 * ```ts
 * class OrderPlaced extends Dispatchable {
 *   static schema = z.object({ orderId: z.number().int().positive() })
 * }
 * ```
 */
export function schemaCheck(eventName: string, schema: unknown): ((event: object) => void) | null {
  if (schema === null || typeof schema !== 'object' || typeof (schema as Partial<PayloadSchema>).safeParse !== 'function') return null
  return (event) => {
    const result = (schema as PayloadSchema).safeParse({ ...event })
    if (result.success) return
    const issues = (result.error?.issues ?? [{ path: [], message: 'invalid' }]).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }))
    throw new EventValidationError(eventName, issues)
  }
}
