import type { BroadcastConnectionConfig } from '../../foundation/config.ts'
import type { Logger } from '../../foundation/logger.ts'
import type { BroadcastDriver, BroadcastMessage } from '../contracts.ts'
import type { BroadcastDriverContext } from '../driver-context.ts'

/** Writes one line per broadcast through the application's logger (level info), Laravel's `log` broadcaster. */
export class LogDriver implements BroadcastDriver {
  constructor(
    readonly connection: string,
    private readonly logger: () => Logger,
  ) {}

  async deliver(message: BroadcastMessage): Promise<void> {
    const except = message.except ? ` except socket ${message.except}` : ''
    this.logger().info(
      `Broadcasting [${message.event}] on channels [${message.channels.join(', ')}]${except} with payload: ${JSON.stringify(message.data)}`,
    )
  }

  async close(): Promise<void> {}
}

export function createDriver(name: string, _config: BroadcastConnectionConfig, context: BroadcastDriverContext): BroadcastDriver {
  return new LogDriver(name, context.logger)
}
