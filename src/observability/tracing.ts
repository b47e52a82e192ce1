import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context as otelContext, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api'
import type { DispatchRecord, EventMiddleware } from '../events/dispatch-contracts.ts'
import { whenSettled } from '../foundation/promises.ts'
import { currentEventContext, withEventContext, type CarriedContext } from '../events/event-context.ts'
import { errorMessage } from '../foundation/error-message.ts'

/** Ends `span` once what `run` returns has settled, marking a failure as an error. */
function endWith(span: Span, run: () => unknown): unknown {
  return whenSettled(run, (error) => {
    if (error !== null) {
      span.recordException(error instanceof Error ? error : String(error))
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) })
    }
    span.end()
  })
}

/** The W3C `traceparent` of the span in a context, for a job envelope. */
export function traceparentOf(trace_: unknown): string | undefined {
  const span = trace.getSpanContext(trace_ as Context)
  if (span === undefined || !trace.isSpanContextValid(span)) return undefined
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

/** The remote parent a `traceparent` names, or the root context when it is missing or malformed. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  const match = traceparent === undefined ? null : /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent)
  if (match === null) return ROOT_CONTEXT
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED, isRemote: true })
}

/**
 * OpenTelemetry spans through @opentelemetry/api, for whatever SDK the application installs
 * (none: the API's no-op tracer): `event <name>` for each dispatch (a child of the span the
 * code runs in: a request's, a job's, a listener's), `listener <name>` for each listener inside
 * it, and `job <name>` for each job a worker runs, a child of the span that queued the job
 * (its `traceparent` travels in the envelope).
 */
export class EventTracing {
  private readonly spans = new WeakMap<DispatchRecord, Context>()

  constructor(private readonly tracer: Tracer = trace.getTracer('herald')) {}

  private start(name: string, kind: SpanKind, parent: Context, attributes: Attributes): Span {
    return this.tracer.startSpan(name, { kind, attributes }, parent)
  }

  /** A server span for an HTTP request, continuing the caller's `traceparent`; `trace` is the context to run the request in. */
  requestSpan(name: string, traceparent: string | undefined, attributes: Attributes): { span: Span; trace: Context } {
    const parent = contextFromTraceparent(traceparent)
    const span = this.start(name, SpanKind.SERVER, parent, attributes)
    return { span, trace: trace.setSpan(parent, span) }
  }

  endRequestSpan(span: Span, status: number): void {
    span.setAttribute('http.status_code', status)
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    span.end()
  }

  /** The dispatcher middleware: dispatch and listener spans. */
  middleware(): EventMiddleware {
    return {
      name: 'EventTracing',
      context: (record, context) => {
        const parent = (context.trace as Context | undefined) ?? otelContext.active()
        const span = this.start(`event ${record.name}`, SpanKind.INTERNAL, parent, {
          'herald.event.name': record.name,
          'herald.event.id': record.id,
          'herald.correlation_id': record.correlationId,
          ...(record.causationId !== null && { 'herald.causation_id': record.causationId }),
          ...(record.replaying && { 'herald.replaying': true }),
        })
        const spanContext = trace.setSpan(parent, span)
        this.spans.set(record, spanContext)
        return { ...context, trace: spanContext }
      },
      listener: (record, listener, run) => {
        const parent = this.spans.get(record) ?? otelContext.active()
        const span = this.start(`listener ${listener.name}`, SpanKind.INTERNAL, parent, {
          'herald.event.name': record.name,
          'herald.listener': listener.name,
          'herald.listener.queued': listener.queued,
        })
        const current = currentEventContext()
        const inner = current === undefined ? run : () => withEventContext({ ...current, trace: trace.setSpan(parent, span) }, run)
        return endWith(span, inner)
      },
      dispatched: (record, error) => {
        const spanContext = this.spans.get(record)
        if (spanContext === undefined) return
        this.spans.delete(record)
        const span = trace.getSpan(spanContext)
        if (span === undefined) return
        if (error !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) })
        span.end()
      },
    }
  }

  /** The job runner's wrapper: one span per job, continuing the trace that queued it. */
  instrumentJob = (envelope: TracedJob, run: (trace?: unknown) => unknown): unknown => {
    const parent = contextFromTraceparent(envelope.context?.traceparent)
    const span = this.start(`job ${envelope.displayName}`, SpanKind.CONSUMER, parent, {
      'herald.job.name': envelope.displayName,
      'herald.job.kind': envelope.job,
      'herald.job.uuid': envelope.uuid,
      'herald.job.attempts': envelope.attempts + 1,
      ...(envelope.context !== undefined && { 'herald.correlation_id': envelope.context.correlationId }),
    })
    return endWith(span, () => run(trace.setSpan(parent, span)))
  }
}

/** What a job's span reads of its envelope (a queue's JobEnvelope is one). */
export interface TracedJob {
  readonly uuid: string
  readonly job: string
  readonly displayName: string
  readonly attempts: number
  readonly context?: CarriedContext
}
