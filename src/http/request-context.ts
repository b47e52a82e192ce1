import type { NextFunction, Request, Response } from 'express'
import { withEventContext } from '../events/event-context.ts'
import type { EventTracing } from '../observability/tracing.ts'
import { ulid } from '../foundation/ulid.ts'

const CORRELATION = /^[\w.:-]{1,128}$/

/**
 * Each request runs in an event context of its own: one correlation id for everything it
 * dispatches and queues (the `X-Correlation-ID` header when the client sent a sane one, else a
 * new ULID; echoed in the response), and, with tracing on, a `HTTP <method>` span that
 * continues the caller's `traceparent` and parents the request's event spans.
 */
export function requestContext(tracing: () => EventTracing | null) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const sent = request.get('x-correlation-id')
    const correlationId = sent !== undefined && CORRELATION.test(sent) ? sent : ulid()
    response.setHeader('X-Correlation-ID', correlationId)
    const tracer = tracing()
    if (tracer === null) {
      withEventContext({ correlationId }, next)
      return
    }
    const { span, trace } = tracer.requestSpan(`HTTP ${request.method}`, request.get('traceparent'), { 'http.method': request.method, 'http.target': request.originalUrl, 'herald.correlation_id': correlationId })
    response.once('close', () => tracer.endRequestSpan(span, response.statusCode))
    withEventContext({ correlationId, trace }, next)
  }
}
