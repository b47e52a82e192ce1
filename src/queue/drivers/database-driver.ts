import type { QueueConnectionConfig } from '../../foundation/config.ts'
import type { QueueDriver } from '../driver.ts'
import type { QueueManager } from '../queue-manager.ts'

// Placeholder until the database driver lands; see the queue issue.
export function createDriver(name: string, _config: QueueConnectionConfig, _manager: QueueManager): QueueDriver {
  throw new Error(`The database queue driver (connection "${name}") is not built yet.`)
}
