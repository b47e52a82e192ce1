/**
 * Metrics (prom-client, scraped over HTTP), OpenTelemetry spans (an in-memory exporter) and
 * the event context carried into queued jobs, on a real SQLite database queue and a real worker.
 */
import { ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Dispatchable,
  Listener,
  ShouldQueue,
  createApplication,
  createMigrator,
  withEventContext,
  type Application,
  type DispatchRecord,
} from 'herald'
import { createApplicationHttpKernel } from '../../src/http/http-kernel.ts'
import { testWorker } from '../support/test-worker.ts'
import { projectRoot } from '../support/project-copy.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

class OrderPlaced extends Dispatchable {
  constructor(readonly orderId: number) {
    super()
  }
}
class ReceiptSent extends Dispatchable {
  constructor(readonly orderId: number) {
    super()
  }
}
class ImportFinished extends ShouldQueue(Dispatchable) {
  constructor(readonly rows: number) {
    super()
  }
}

let app: Application
let database: FreshDatabase
const exporter = new InMemorySpanExporter()
const records: DispatchRecord[] = []

class SendReceipt extends ShouldQueue(Listener.for(OrderPlaced)) {
  async handle(event: OrderPlaced) {
    if (event.orderId < 0) throw new Error('no such order')
    await app.make('events').dispatch(new ReceiptSent(event.orderId))
  }
}

beforeAll(async () => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
  database = await freshDatabase('sqlite')
  app = createApplication({
    basePath: projectRoot,
    envFile: false,
    loadConfig: false,
    env: {
      LOG_LEVEL: 'silent',
      EVENTS_DISCOVERY: 'false',
      EVENTS_METRICS_ENABLED: 'true',
      EVENTS_TRACING_ENABLED: 'true',
      BROADCAST_CONNECTION: 'null',
      QUEUE_CONNECTION: 'database',
      DB_DATABASE: (database.connection as { filename: string }).filename,
    },
  })
  await app.boot()
  await (await createMigrator(app)).latest()
  const events = app.make('events')
  events.use({ name: 'Recorder', dispatching: (record) => void records.push(record) })
  events.listen(OrderPlaced, SendReceipt)
  events.listen(OrderPlaced, function Audit(event: OrderPlaced) {
    if (event.orderId === 13) throw new Error('unlucky')
  })
  events.listen(ImportFinished, function Summarize() {})
})
afterAll(async () => {
  await app?.shutdown()
  await database?.drop()
  trace.disable()
})

async function work(): Promise<void> {
  const worker = testWorker(app.make('queue'), { stopWhenEmpty: true })
  await worker.run()
}

function spanNamed(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.find((span) => span.name === name)
  if (found === undefined) throw new Error(`No span "${name}" among: ${spans.map((span) => span.name).join(', ')}`)
  return found
}

describe('the event context in queued jobs', () => {
  it('a queued listener continues the chain: same correlation id, caused by the event that queued it', async () => {
    records.length = 0
    await withEventContext({ correlationId: 'request-1' }, () => app.make('events').dispatch(new OrderPlaced(1)))
    await work()
    const placed = records.find((record) => record.name === 'OrderPlaced')!
    const sent = records.find((record) => record.name === 'ReceiptSent')!
    expect(placed).toMatchObject({ correlationId: 'request-1', causationId: null, redispatch: false })
    expect(sent).toMatchObject({ correlationId: 'request-1', causationId: placed.id, event: { orderId: 1 } })
  })

  it('a ShouldQueue event keeps its id when the worker runs its listeners', async () => {
    records.length = 0
    await app.make('events').dispatch(new ImportFinished(3))
    await work()
    const [queued, ran] = records
    expect(queued).toMatchObject({ name: 'ImportFinished', redispatch: false })
    expect(ran).toMatchObject({ name: 'ImportFinished', redispatch: true, id: queued!.id, correlationId: queued!.correlationId })
  })
})

describe('tracing', () => {
  it("makes a job's span a child of the span that queued it, in one trace from the request", async () => {
    exporter.reset()
    const tracer = trace.getTracer('test')
    const request = tracer.startSpan('GET /orders')
    await withEventContext({ correlationId: 'request-2', trace: trace.setSpan(ROOT_CONTEXT, request) }, () => app.make('events').dispatch(new OrderPlaced(2)))
    request.end()
    await work()
    const spans = exporter.getFinishedSpans()
    const event = spanNamed(spans, 'event OrderPlaced')
    const queueing = spanNamed(spans, 'listener SendReceipt')
    const job = spanNamed(spans, 'job SendReceipt')
    const nested = spanNamed(spans, 'event ReceiptSent')
    const traceId = request.spanContext().traceId
    for (const span of [event, queueing, job, nested]) expect(span.spanContext().traceId).toBe(traceId)
    expect(event.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    expect(queueing.parentSpanContext?.spanId).toBe(event.spanContext().spanId)
    expect(job.parentSpanContext?.spanId).toBe(queueing.spanContext().spanId)
    expect(nested.parentSpanContext?.spanId).toBe(job.spanContext().spanId)
    expect(event.attributes).toMatchObject({ 'herald.event.name': 'OrderPlaced', 'herald.correlation_id': 'request-2' })
  })

  it('marks failed listeners and jobs as errors', async () => {
    exporter.reset()
    await expect(app.make('events').dispatch(new OrderPlaced(13))).rejects.toThrow('unlucky')
    await app.make('events').dispatch(new OrderPlaced(-1)).catch(() => undefined)
    await work()
    const spans = exporter.getFinishedSpans()
    const audit = spans.find((span) => span.name === 'listener Audit' && span.status.code === 2)
    expect(audit?.status.message).toBe('unlucky')
    expect(spans.find((span) => span.name === 'job SendReceipt' && span.status.code === 2)?.status.message).toBe('no such order')
  })
})

describe('metrics', () => {
  it('serves Prometheus metrics: dispatches, listener durations by outcome, jobs, queue depth', async () => {
    const kernel = await createApplicationHttpKernel(app)
    const { port } = await kernel.listen(0, '127.0.0.1')
    try {
      // Two jobs left waiting for the depth gauge.
      await app.make('events').dispatch(new OrderPlaced(20))
      await app.make('events').dispatch(new OrderPlaced(21))
      const response = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toContain('text/plain')
      const text = await response.text()
      const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1])
      // OrderPlaced 1, 2, 13, -1, 20, 21 in this file; the worker sent receipts for 1, 2 and 13.
      expect(value(/^herald_events_dispatched_total\{event="OrderPlaced"\} (\d+)$/m)).toBe(6)
      expect(value(/^herald_events_dispatched_total\{event="ReceiptSent"\} (\d+)$/m)).toBe(3)
      // A worker's re-dispatch of a queued event is not a second dispatch.
      expect(value(/^herald_events_dispatched_total\{event="ImportFinished"\} (\d+)$/m)).toBe(1)
      expect(value(/^herald_listener_duration_seconds_count\{event="OrderPlaced",listener="Audit",outcome="error"\} (\d+)$/m)).toBe(1)
      expect(value(/^herald_listener_duration_seconds_count\{event="OrderPlaced",listener="Audit",outcome="success"\} (\d+)$/m)).toBe(5)
      expect(value(/^herald_listener_duration_seconds_count\{event="OrderPlaced",listener="SendReceipt",outcome="queued"\} (\d+)$/m)).toBe(6)
      expect(value(/^herald_jobs_processed_total\{connection="database",queue="default",job="SendReceipt",status="DONE"\} (\d+)$/m)).toBe(3)
      expect(value(/^herald_jobs_processed_total\{connection="database",queue="default",job="SendReceipt",status="FAIL"\} (\d+)$/m)).toBe(1)
      expect(value(/^herald_jobs_failed_total\{connection="database",queue="default",job="SendReceipt"\} (\d+)$/m)).toBe(1)
      expect(value(/^herald_queue_depth\{connection="database",queue="default"\} (\d+)$/m)).toBe(2)
    } finally {
      await kernel.close()
    }
  })
})
