import { defineRoutes } from 'herald'
import { listBatches, startBatch } from './controllers/batches-controller.ts'
import { listFailedJobs, retryFailedJob, showDashboard } from './controllers/dashboard-controller.ts'
import { storeOrder, storeOrderFromApi } from './controllers/orders-controller.ts'

export default defineRoutes(({ web, api }) => {
  web.get('/', showDashboard)
  web.post('/orders', storeOrder)
  web.get('/failed-jobs', listFailedJobs)
  web.post('/failed-jobs/:id/retry', retryFailedJob)
  web.get('/batches', listBatches)
  web.post('/batches', startBatch)

  api.post('/orders', storeOrderFromApi)
})
