import type { Request, Response } from 'express'
import { ValidationError } from 'herald'
import { DEMO_USER } from '../../channels.ts'
import { placeOrder } from '../../services/orders.ts'
import { presentOrder } from '../presenters.ts'
import { showDashboardWithErrors } from './dashboard-controller.ts'

function wantsJson(request: Request): boolean {
  return request.is('json') === 'json' || request.accepts(['html', 'json']) === 'json'
}

/**
 * POST /orders, from the page's form or as JSON (with the X-CSRF-TOKEN header): 201 with the
 * order, or 422 with the field errors (JSON) or the form again with them (HTML).
 */
export async function storeOrder(request: Request, response: Response) {
  const body = (request.body ?? {}) as Record<string, unknown>
  try {
    const order = await placeOrder(body, DEMO_USER.id)
    if (wantsJson(request)) response.status(201).json({ order: presentOrder(order) })
    else response.redirect(303, `/?placed=${order.id}#orders`)
  } catch (error) {
    if (!(error instanceof ValidationError) || wantsJson(request)) throw error
    const { _token: _ignored, ...old } = body
    await showDashboardWithErrors(response, error.errors, old)
  }
}

/** POST /api/orders: the same for other programs, JSON only and without a CSRF token. */
export async function storeOrderFromApi(request: Request, response: Response) {
  const order = await placeOrder(request.body, DEMO_USER.id)
  response.status(201).json({ order: presentOrder(order) })
}
