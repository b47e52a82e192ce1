import { defaultAllowedOrigins, defaultBroadcastLimits, defineConfig } from 'herald'

export default defineConfig((env) => ({
  // How ShouldBroadcast events reach Laravel Echo clients: socketio (the socket.io server
  // inside the web server; the default), redis (the socket.io Redis adapter, for several web
  // servers), log (one line per broadcast) or null.
  default: env.string('BROADCAST_CONNECTION', 'socketio'),
  // Signs the broadcasts a queue worker posts to the web server (socketio): the same value in
  // every process of the application.
  key: env.get('APP_KEY') ?? null,
  connections: {
    socketio: {
      driver: 'socketio' as const,
      // Where processes without a socket.io server (queue workers) send their broadcasts.
      url: env.string('BROADCAST_SERVER_URL', 'http://127.0.0.1:3000'),
    },
    redis: {
      driver: 'redis' as const,
      url: env.string('REDIS_URL', 'redis://127.0.0.1:6379'),
      // The one prefix of the Redis channels, read by web servers and workers alike.
      prefix: env.string('BROADCAST_PREFIX', 'herald-broadcast'),
    },
    log: { driver: 'log' as const },
    null: { driver: 'null' as const },
  },
  // What one socket can make the server hold; over a limit the socket gets
  // subscription_error (channel, status) and stays connected. Defaults: 100 channels per
  // socket (BROADCAST_MAX_CHANNELS), names of 200 characters (BROADCAST_MAX_CHANNEL_NAME), 100
  // subscribes per 10 s (BROADCAST_SUBSCRIBE_RATE, BROADCAST_SUBSCRIBE_RATE_SECONDS), whispers
  // of 10 KB (BROADCAST_MAX_CLIENT_EVENT_BYTES), socket.io frames of 100 KB
  // (BROADCAST_MAX_FRAME_BYTES, a bigger one closes its connection).
  limits: defaultBroadcastLimits(env),
  // The pages that may open a socket or call /broadcasting/auth, by their Origin header:
  // BROADCAST_ALLOWED_ORIGINS (comma-separated; http://localhost:* for any port, * for any
  // origin), else APP_URL and, when APP_ENV is local or testing, localhost on any port.
  // Clients that send no Origin (not browsers) are allowed.
  allowedOrigins: defaultAllowedOrigins(env),
}))
