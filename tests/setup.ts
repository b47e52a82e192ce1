import { afterEach } from 'vitest'
import { restoreAllFakes } from 'herald'

// A fake never outlives its test, even one that forgot restore().
afterEach(() => restoreAllFakes())
