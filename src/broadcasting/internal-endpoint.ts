import express, { type Router } from 'express'
import {
  BroadcastRequestError,
  INTERNAL_BROADCAST_PATH,
  SIGNATURE_HEADER,
  verifyBroadcastRequest,
} from './broadcast-signature.ts'
import type { BroadcastDelivery } from './contracts.ts'

export { INTERNAL_BROADCAST_PATH, SIGNATURE_HEADER, verifyBroadcastRequest, BroadcastRequestError }

/**
 * The web server's door for broadcasts made in other processes (queue workers on the
 * `socketio` connection): `POST /_herald/broadcast`, signed with APP_KEY. A verified message
 * goes to `delivery` (the socket.io server) and the answer is 204; a bad or missing signature
 * is 403, a malformed body 400, a server without APP_KEY 503.
 *
 * ```ts
 * app.use(createInternalBroadcastRouter(echoServer, config.get('broadcasting').key))
 * ```
 *
 * The router reads the raw body itself (the signature covers the exact bytes), so mount it
 * before, or beside, any body parser.
 */
export function createInternalBroadcastRouter(delivery: BroadcastDelivery, appKey: string | null): Router {
  const router = express.Router()
  router.post(INTERNAL_BROADCAST_PATH, express.raw({ type: () => true, limit: '1mb' }), async function deliverSignedBroadcast(request, response) {
    if (appKey === null || appKey === '') {
      response.status(503).type('text/plain').send('APP_KEY is not set on the web server: broadcasts from other processes cannot be verified.')
      return
    }
    // No body at all leaves req.body undefined; a parsed object means a parser ran first.
    const body: unknown = request.body ?? Buffer.alloc(0)
    if (!Buffer.isBuffer(body)) {
      response.status(500).type('text/plain').send(`A body parser consumed the request before ${INTERNAL_BROADCAST_PATH}: mount the broadcast router before it.`)
      return
    }
    let message
    try {
      message = verifyBroadcastRequest(body, request.headers[SIGNATURE_HEADER], appKey)
    } catch (error) {
      if (!(error instanceof BroadcastRequestError)) throw error
      response.status(error.status).type('text/plain').send(error.message)
      return
    }
    await delivery.deliver(message)
    response.status(204).end()
  })
  return router
}
