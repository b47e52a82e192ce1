/**
 * An error the user can fix from its message alone (a bad setting, a bad name, a listener
 * that declares no events). The console prints its one line and exits 1, with no stack.
 */
export class UserError extends Error {
  override readonly name: string = 'UserError'
}
