import type { Request, Response } from 'express'
import { Bus, Event, Queue, type FieldErrors } from 'herald'
import { DEMO_USER } from '../../channels.ts'
import { products } from '../../services/inventory.ts'
import { broadcastToken } from '../../services/operator.ts'
import { recentOrders } from '../../services/orders.ts'
import { presentBatch, presentFailedJob, presentOrder } from '../presenters.ts'
import { LISTED_BATCHES } from './batches-controller.ts'

export interface FormState {
  readonly errors?: FieldErrors
  readonly old?: Record<string, unknown>
  readonly placed?: number
}

/** Everything the dashboard page shows when it opens; the live parts then come over socket.io. */
async function dashboardData(form: FormState) {
  const listing = Event.list()
  const old = form.old ?? {}
  return {
    title: 'Dashboard',
    user: DEMO_USER,
    // What the page's socket shows to subscribe to private-dashboard and private-orders.1.
    broadcastToken: broadcastToken(DEMO_USER.id),
    products: products.map((product) => ({ ...product, price: (product.priceCents / 100).toFixed(2), selected: old.sku === product.sku })),
    orders: (await recentOrders(10)).map(presentOrder),
    failedJobs: (await Queue.failedJobs()).map(presentFailedJob),
    batches: (await Bus.batches(LISTED_BATCHES)).map(presentBatch),
    events: [...listing.events, ...listing.wildcards.map((entry) => ({ ...entry, wildcard: true }))],
    errors: form.errors ?? {},
    old,
    placed: form.placed ?? null,
  }
}

/** GET / */
export async function showDashboard(request: Request, response: Response) {
  const placed = Number(request.query.placed)
  response.render('dashboard', await dashboardData(Number.isInteger(placed) && placed > 0 ? { placed } : {}))
}

/** The page again, with the form's errors and what was typed (422). */
export async function showDashboardWithErrors(response: Response, errors: FieldErrors, old: Record<string, unknown>) {
  response.status(422).render('dashboard', await dashboardData({ errors, old }))
}

/** GET /failed-jobs: the list the dashboard refreshes when a job fails. */
export async function listFailedJobs(_request: Request, response: Response) {
  response.json({ failedJobs: (await Queue.failedJobs()).map(presentFailedJob) })
}

/** POST /failed-jobs/:id/retry (CSRF-protected): back on its queue; the page, or JSON for fetch. */
export async function retryFailedJob(request: Request, response: Response) {
  const id = String(request.params.id)
  const retried = await Queue.retryFailed(id)
  if (request.accepts(['html', 'json']) === 'json') {
    response.status(retried ? 200 : 404).json(retried ? { retried: Number(id) } : { message: `No failed job with id ${id}.` })
    return
  }
  response.redirect(303, '/#failed-jobs')
}
