import { defineRoutes } from 'herald'
import { listFailedJobs, retryFailedJob, showDashboard } from './controllers/dashboard-controller.ts'
import { storeOrder, storeOrderFromApi } from './controllers/orders-controller.ts'

export default defineRoutes(({ web, api }) => {
  web.get('/', showDashboard)
  web.post('/orders', storeOrder)
  web.get('/failed-jobs', listFailedJobs)
  web.post('/failed-jobs/:id/retry', retryFailedJob)

  api.post('/orders', storeOrderFromApi)
})
