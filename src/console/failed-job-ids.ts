import { UserError } from '../foundation/errors.ts'
import { quoteInput } from './quote-input.ts'

/** The failed_jobs uuid column's width: a longer text cannot name a failed job. */
const MAX_UUID_LENGTH = 255

/**
 * A failed job's id as `queue:forget` and `queue:retry` take it: its number (`5`, as
 * `queue:failed` lists it) or its uuid. Checked here, so a number no database column holds
 * (`99999999999999999999`) is one line and exit 1, not a database error.
 */
export function parseFailedJobId(input: string): string {
  const id = input.trim()
  if (id === '') throw new UserError('The failed job id is empty: pass one that queue:failed lists, e.g. 5.')
  if (/^\d+$/.test(id) && !(Number.isSafeInteger(Number(id)) && Number(id) >= 1)) {
    throw new UserError(`${quoteInput(id)} is not a failed job id: ids are whole numbers from 1 to ${Number.MAX_SAFE_INTEGER} (see queue:failed).`)
  }
  if (id.length > MAX_UUID_LENGTH) throw new UserError(`${quoteInput(id)} is not a failed job id: ids and uuids have at most ${MAX_UUID_LENGTH} characters (see queue:failed).`)
  return id
}
