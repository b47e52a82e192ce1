import type { DatabaseManager } from '../database/database-manager.ts'
import { MemoryFailedJobStore } from './failed-job-store.ts'

// Placeholder until the failed_jobs table lands; see the queue issue.
export class DatabaseFailedJobStore extends MemoryFailedJobStore {
  constructor(_db: DatabaseManager, _table: string, _connection?: string) {
    super()
  }
}
