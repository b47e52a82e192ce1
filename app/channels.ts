import type { BroadcastUser, ChannelRegistry } from 'herald'
import { tokenUserId } from './services/operator.ts'

/** The demo has one customer, whoever opens the page: a real application reads its session or token here. */
export const DEMO_USER = { id: 1, name: 'Demo customer' } as const

/** Who may watch the dashboard's feed of every dispatch and job: the demo's one user. */
export function isOperator(user: BroadcastUser): boolean {
  return user.id === DEMO_USER.id
}

/**
 * Who a socket is, and who may listen on which private channel (`orders` is public: no entry
 * needed). A socket is the demo user only with the token the dashboard page carries
 * (app/services/operator.ts); without one it is a guest, and guests get no private channel.
 */
export default function channels(registry: ChannelRegistry) {
  registry.resolveUsersWith((request) => (tokenUserId(request) === DEMO_USER.id ? DEMO_USER : null))
  registry.channel('orders.{userId}', (user, userId) => user.id === Number(userId))
  // The operator view: every event's (redacted) payload and every job, as Echo's .private('dashboard').
  registry.channel('dashboard', (user) => isOperator(user))
}
