import type { ServerOptions } from 'socket.io'
import type { BroadcastConnectionConfig } from '../foundation/config.ts'
import type { Logger } from '../foundation/logger.ts'
import type { BroadcastDelivery, BroadcastDriver } from './contracts.ts'

/** What socket.io's `io.adapter(...)` takes. */
export type ServerAdapter = NonNullable<ServerOptions['adapter']>

/** A socket.io adapter whose connections the manager closes at shutdown. */
export type ClosableServerAdapter = ServerAdapter & { close(): Promise<void> }

/**
 * What the broadcast manager hands a driver: the few things drivers use, never the manager
 * itself. Each is read at each use: boot replaces the config, a server attaches later.
 */
export interface BroadcastDriverContext {
  /** The application's logger. */
  logger(): Logger
  /** The socket.io server of this process, if one is attached: the driver delivers to it directly. */
  localServer(): BroadcastDelivery | null
  /** APP_KEY, which signs broadcasts posted to the web server; null when unset. */
  key(): string | null
}

/** What a driver module exports: `drivers/<name>-driver.ts` is imported only when used. */
export interface BroadcastDriverModule {
  createDriver(name: string, config: BroadcastConnectionConfig, context: BroadcastDriverContext): BroadcastDriver | Promise<BroadcastDriver>
  /** The adapter every socket.io server of this connection needs (the redis driver's). */
  createServerAdapter?(config: BroadcastConnectionConfig, context: BroadcastDriverContext): Promise<ClosableServerAdapter>
}
