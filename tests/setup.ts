import { afterEach } from 'vitest'
import { restoreAllFakes, restoreAllQueueFakes } from 'herald'

// A fake never outlives its test, even one that forgot restore().
afterEach(() => {
  restoreAllFakes()
  restoreAllQueueFakes()
})
