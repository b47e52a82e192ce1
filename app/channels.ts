import type { ChannelRegistry } from 'herald'

/** The demo has one customer, whoever opens it: a real application reads its session or token here. */
export const DEMO_USER = { id: 1, name: 'Demo customer' } as const

/** Who may listen on which private channel (`orders` and `dashboard` are public: no entry needed). */
export default function channels(registry: ChannelRegistry) {
  registry.resolveUsersWith(() => DEMO_USER)
  registry.channel('orders.{userId}', (user, userId) => user.id === Number(userId))
}
