import { jobDisplayName, type Batch, type FailedJob } from 'herald'
import { products } from '../services/inventory.ts'
import type { OrderRow } from '../services/orders.ts'

/** What the dashboard shows of an order (also sent with OrderPlaced's feed entry). */
export function presentOrder(order: OrderRow) {
  const product = products.find((candidate) => candidate.sku === order.sku)
  return {
    id: Number(order.id),
    email: order.email,
    product: product?.name ?? order.sku,
    quantity: order.quantity,
    total: (order.total_cents / 100).toFixed(2),
    warehouse: order.warehouse_notified_at !== null ? 'notified' : order.fail_warehouse ? 'outage' : 'pending',
    placedAt: new Date(Number(order.created_at)).toISOString(),
  }
}

/** A failed job as the dashboard lists it: the first line of the exception is enough there. */
export function presentFailedJob(job: FailedJob) {
  return {
    id: job.id,
    name: jobDisplayName(job.payload),
    connection: job.connection,
    queue: job.queue,
    error: job.exception.split('\n')[0] ?? '',
    failedAt: job.failedAt.toISOString(),
  }
}

/** A job batch as the dashboard shows it: its progress bar and counts. */
export function presentBatch(batch: Batch) {
  return {
    id: batch.id,
    name: batch.name === '' ? '(unnamed)' : batch.name,
    totalJobs: batch.totalJobs,
    processedJobs: batch.processedJobs,
    failedJobs: batch.failedJobs,
    progress: batch.progress,
    state: batch.cancelled ? 'cancelled' : batch.finished ? (batch.failedJobs > 0 ? 'finished with failures' : 'finished') : 'running',
    createdAt: batch.createdAt.toISOString(),
  }
}
