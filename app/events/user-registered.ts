import { Dispatchable } from 'herald'

/** A new user signed up. */
export class UserRegistered extends Dispatchable {
  constructor(
    public readonly userId: number,
    public readonly email: string,
  ) {
    super()
  }
}
