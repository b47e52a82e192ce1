import { defineConfig } from 'herald'

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
}))
