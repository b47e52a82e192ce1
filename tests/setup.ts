import { afterEach } from 'vitest'
import { restoreAllBroadcastFakes, restoreAllBusFakes, restoreAllEventBusFakes, restoreAllFakes, restoreAllQueueFakes } from 'herald'

// A fake never outlives its test, even one that forgot restore().
afterEach(() => {
  restoreAllFakes()
  restoreAllQueueFakes()
  restoreAllBroadcastFakes()
  restoreAllEventBusFakes()
  restoreAllBusFakes()
})
