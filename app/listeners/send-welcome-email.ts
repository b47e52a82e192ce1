import { Listener } from 'herald'
import { UserRegistered } from '../events/user-registered.ts'
import { mailbox } from '../services/mailbox.ts'

/** Greets a new user. */
export default class SendWelcomeEmail extends Listener.for(UserRegistered) {
  handle(event: UserRegistered) {
    mailbox.push({ to: event.email, subject: 'Welcome to Herald' })
  }
}
