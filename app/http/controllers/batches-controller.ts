import type { Request, Response } from 'express'
import { Bus } from 'herald'
import ImportRows from '../../jobs/import-rows.ts'
import { presentBatch } from '../presenters.ts'

/** How many batches the dashboard lists, newest first. */
export const LISTED_BATCHES = 5

/** GET /batches: the recent batches with their progress, as the dashboard refreshes them. */
export async function listBatches(_request: Request, response: Response) {
  response.json({ batches: (await Bus.batches(LISTED_BATCHES)).map(presentBatch) })
}

/** POST /batches (CSRF-protected): starts a demo import of 10 jobs of 10 rows; JSON, or back to the page. */
export async function startBatch(request: Request, response: Response) {
  const jobs = Array.from({ length: 10 }, (_, i) => new ImportRows(i * 10 + 1, i * 10 + 10))
  const batch = await Bus.batch(jobs).name('demo import').allowFailures().dispatch()
  if (request.accepts(['html', 'json']) === 'json') {
    response.status(201).json({ batch: presentBatch(batch) })
    return
  }
  response.redirect(303, '/#batches')
}
