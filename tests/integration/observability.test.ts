/**
 * Metrics (prom-client, scraped over HTTP), OpenTelemetry spans (an in-memory exporter) and
 * the event context carried into queued jobs, on a real SQLite database queue and a real worker.
 */
import { ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { json as expressJson } from 'express'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  Dispatchable,
  Job,
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

/** A job class: its dispatches inside handle() continue the chain, as a queued listener's do. */
class ArchiveOrder extends Job {
  constructor(readonly orderId: number) {
    super()
  }
  async handle() {
    await app.make('events').dispatch(new ReceiptSent(this.orderId))
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

  it('treats a job class like a queued listener: its span is a child of the one that queued it, its events continue the chain, metrics count it', async () => {
    exporter.reset()
    const before = (await app.make('events.metrics').scrape()).body
    const count = (text: string) => Number(/^herald_jobs_processed_total\{connection="database",queue="default",job="ArchiveOrder",status="DONE"\} (\d+)$/m.exec(text)?.[1] ?? 0)
    const tracer = trace.getTracer('test')
    const request = tracer.startSpan('POST /orders/9/archive')
    records.length = 0
    await withEventContext({ correlationId: 'request-9', trace: trace.setSpan(ROOT_CONTEXT, request) }, () => app.make('bus').dispatch(new ArchiveOrder(9)))
    request.end()
    await work()
    const job = spanNamed(exporter.getFinishedSpans(), 'job ArchiveOrder')
    expect(job.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(job.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    const receipt = spanNamed(exporter.getFinishedSpans(), 'event ReceiptSent')
    expect(receipt.parentSpanContext?.spanId).toBe(job.spanContext().spanId)
    expect(records.find((record) => record.name === 'ReceiptSent')?.correlationId).toBe('request-9')
    expect(count((await app.make('events.metrics').scrape()).body) - count(before)).toBe(1)
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

describe('requests', () => {
  it("run in the caller's correlation id and trace: request span, then event, listener, job", async () => {
    const kernel = await createApplicationHttpKernel(app)
    kernel.routes.post('/test/orders', expressJson(), async (request, response) => {
      await app.make('events').dispatch(new OrderPlaced((request.body as { id: number }).id))
      response.status(201).json({ ok: true })
    })
    const { port } = await kernel.listen(0, '127.0.0.1')
    try {
      exporter.reset()
      records.length = 0
      const caller = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }
      const response = await fetch(`http://127.0.0.1:${port}/test/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': 'checkout-77', traceparent: `00-${caller.traceId}-${caller.spanId}-01` },
        body: JSON.stringify({ id: 5 }),
      })
      expect(response.status).toBe(201)
      expect(response.headers.get('x-correlation-id')).toBe('checkout-77')
      await work()
      expect(records.find((record) => record.name === 'OrderPlaced')).toMatchObject({ correlationId: 'checkout-77', causationId: null })
      expect(records.find((record) => record.name === 'ReceiptSent')).toMatchObject({ correlationId: 'checkout-77' })
      await vi.waitFor(() => spanNamed(exporter.getFinishedSpans(), 'HTTP POST'))
      const spans = exporter.getFinishedSpans()
      const request = spanNamed(spans, 'HTTP POST')
      expect(request.parentSpanContext?.spanId).toBe(caller.spanId)
      expect(request.attributes['http.status_code']).toBe(201)
      expect(spanNamed(spans, 'event OrderPlaced').parentSpanContext?.spanId).toBe(request.spanContext().spanId)
      expect(spanNamed(spans, 'job SendReceipt').spanContext().traceId).toBe(caller.traceId)

      // Without the header, each request gets a correlation id of its own.
      const plain = await fetch(`http://127.0.0.1:${port}/health`)
      expect(plain.headers.get('x-correlation-id')).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    } finally {
      await kernel.close()
    }
  })
})

describe('metrics', () => {
  it('serves Prometheus metrics: dispatches, listener durations by outcome, jobs, queue depth', async () => {
    const kernel = await createApplicationHttpKernel(app)
    const { port } = await kernel.listen(0, '127.0.0.1')
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toContain('text/plain')
      const text = await response.text()
      return (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0)
    }
    const series = {
      placed: /^herald_events_dispatched_total\{event="OrderPlaced"\} (\d+)$/m,
      receipts: /^herald_events_dispatched_total\{event="ReceiptSent"\} (\d+)$/m,
      imports: /^herald_events_dispatched_total\{event="ImportFinished"\} (\d+)$/m,
      auditError: /^herald_listener_duration_seconds_count\{event="OrderPlaced",listener="Audit",outcome="error"\} (\d+)$/m,
      auditOk: /^herald_listener_duration_seconds_count\{event="OrderPlaced",listener="Audit",outcome="success"\} (\d+)$/m,
      queued: /^herald_listener_duration_seconds_count\{event="OrderPlaced",listener="SendReceipt",outcome="queued"\} (\d+)$/m,
      done: /^herald_jobs_processed_total\{connection="database",queue="default",job="SendReceipt",status="DONE"\} (\d+)$/m,
      fail: /^herald_jobs_processed_total\{connection="database",queue="default",job="SendReceipt",status="FAIL"\} (\d+)$/m,
      failed: /^herald_jobs_failed_total\{connection="database",queue="default",job="SendReceipt"\} (\d+)$/m,
      depth: /^herald_queue_depth\{connection="database",queue="default"\} (\d+)$/m,
    }
    try {
      const before = await scrape()
      const events = app.make('events')
      await events.dispatch(new OrderPlaced(30))
      await expect(events.dispatch(new OrderPlaced(13))).rejects.toThrow('unlucky')
      await events.dispatch(new OrderPlaced(-1))
      await events.dispatch(new ImportFinished(1))
      await work()
      // Two jobs left waiting for the depth gauge.
      await events.dispatch(new OrderPlaced(40))
      await events.dispatch(new OrderPlaced(41))
      const after = await scrape()
      const delta = (key: keyof typeof series) => after(series[key]) - before(series[key])
      expect(delta('placed')).toBe(5)
      // The worker sent receipts for 30 and 13; its re-dispatch of ImportFinished is not a second dispatch.
      expect(delta('receipts')).toBe(2)
      expect(delta('imports')).toBe(1)
      expect(delta('auditError')).toBe(1)
      expect(delta('auditOk')).toBe(4)
      expect(delta('queued')).toBe(5)
      expect(delta('done')).toBe(2)
      expect(delta('fail')).toBe(1)
      expect(delta('failed')).toBe(1)
      expect(after(series.depth)).toBe(2)
    } finally {
      await kernel.close()
    }
  })
})
