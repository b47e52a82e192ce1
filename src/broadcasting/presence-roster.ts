import type { RemoteSocket, Server, Socket } from 'socket.io'
import type { PresenceMember } from './channel-registry.ts'

// Event names and payloads are the application's (broadcastAs), so neither side is typed here.
type AnyEvents = Record<string, (...args: any[]) => void>

/** What Herald keeps on each socket: its presence membership per channel, readable from every server. */
export interface EchoSocketData {
  presence?: Record<string, PresenceMember>
}

export type EchoIo = Server<AnyEvents, AnyEvents, AnyEvents, EchoSocketData>
export type EchoSocket = Socket<AnyEvents, AnyEvents, AnyEvents, EchoSocketData>

/**
 * Who is on each presence channel, and when to say so.
 *
 * The members of a channel are read from the sockets in its room (`io.in(channel).fetchSockets()`,
 * each socket carrying its member in `socket.data`), not from a table of our own: through the
 * socket.io Redis adapter that query spans every server, so `here()` lists the users of all of
 * them, and a server that dies takes its members with it instead of leaving them present
 * forever. A user is announced (`presence:joining`) when their first socket joins and
 * (`presence:leaving`) when their last one leaves, across servers too.
 *
 * Steps on one channel run one after another in this process, so two tabs of a user joining
 * at the same moment announce the user once. Between servers there is no such lock: two tabs
 * joining the same channel on two servers within one round trip of each other may both see the
 * other and announce nobody, or both announce; the next `here()` is right again either way.
 */
export class PresenceRoster {
  private readonly tails = new Map<string, Promise<void>>()

  constructor(private readonly io: EchoIo) {}

  /**
   * Puts `socket` in the channel as `member`, sends it `presence:subscribed` with the members,
   * and `presence:joining` to the others unless this user was already there.
   */
  join(socket: EchoSocket, channel: string, member: PresenceMember): Promise<void> {
    return this.serial(channel, async () => {
      // Disconnected while waiting its turn: joining now would leave a member nobody removes.
      if (!socket.connected) return
      const presence = (socket.data.presence ??= {})
      const rejoining = presence[channel] !== undefined
      presence[channel] = member
      await socket.join(channel)
      const sockets = await this.io.in(channel).fetchSockets()
      socket.emit('presence:subscribed', channel, uniqueMembers(sockets, channel))
      const alreadyPresent = sockets.some((other) => other.id !== socket.id && sameUser(other.data.presence?.[channel], member))
      if (!rejoining && !alreadyPresent) socket.to(channel).emit('presence:joining', channel, member)
    })
  }

  /** Takes `socket` out of the channel (unsubscribe); `presence:leaving` if it was the user's last socket there. */
  leave(socket: EchoSocket, channel: string): Promise<void> {
    return this.serial(channel, () => this.depart(socket, channel))
  }

  /** After a disconnect (socket.io has already emptied its rooms): leaves every presence channel it was in. */
  disconnected(socket: EchoSocket): Promise<void>[] {
    return Object.keys(socket.data.presence ?? {}).map((channel) => this.leave(socket, channel))
  }

  /** The channel's members, one per user, once the joins and leaves already received have been handled. */
  members(channel: string): Promise<PresenceMember[]> {
    return this.serial(channel, async () => uniqueMembers(await this.io.in(channel).fetchSockets(), channel))
  }

  private async depart(socket: EchoSocket, channel: string): Promise<void> {
    await socket.leave(channel)
    // Read at run time, not when the leave was asked for: an unsubscribe followed by a
    // disconnect must announce the user once.
    const member = socket.data.presence?.[channel]
    if (member === undefined) return
    delete socket.data.presence?.[channel]
    const sockets = await this.io.in(channel).fetchSockets()
    if (!sockets.some((other) => sameUser(other.data.presence?.[channel], member))) {
      this.io.to(channel).emit('presence:leaving', channel, member)
    }
  }

  /** Runs `task` after the steps already queued for `channel`; a failed step does not block the next. */
  private serial<T>(channel: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(channel) ?? Promise.resolve()
    const result = previous.then(task)
    const tail = result.then(
      () => undefined,
      () => undefined,
    )
    this.tails.set(channel, tail)
    void tail.then(() => {
      if (this.tails.get(channel) === tail) this.tails.delete(channel)
    })
    return result
  }
}

function sameUser(member: PresenceMember | undefined, other: PresenceMember): boolean {
  return member !== undefined && String(member.user_id) === String(other.user_id)
}

/** One member per user, in the order their sockets joined (a user's first socket's info wins). */
function uniqueMembers(sockets: RemoteSocket<AnyEvents, EchoSocketData>[], channel: string): PresenceMember[] {
  const members = new Map<string, PresenceMember>()
  for (const socket of sockets) {
    const member = socket.data.presence?.[channel]
    if (member !== undefined && !members.has(String(member.user_id))) members.set(String(member.user_id), member)
  }
  return [...members.values()]
}
