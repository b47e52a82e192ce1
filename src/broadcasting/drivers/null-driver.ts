import type { BroadcastConnectionConfig } from '../../foundation/config.ts'
import type { BroadcastDriver, BroadcastMessage } from '../contracts.ts'

/** Broadcasts nothing: for applications (or environments) that have no clients. */
export class NullDriver implements BroadcastDriver {
  constructor(readonly connection: string) {}

  async deliver(_message: BroadcastMessage): Promise<void> {}

  async close(): Promise<void> {}
}

export function createDriver(name: string, _config: BroadcastConnectionConfig): BroadcastDriver {
  return new NullDriver(name)
}
