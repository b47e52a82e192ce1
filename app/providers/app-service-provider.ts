import { Queue, ServiceProvider, type JobReport, type JobStarting } from 'herald'
import { toDashboard } from '../services/dashboard.ts'

function job(report: JobStarting | JobReport): Record<string, unknown> {
  return { ...report, startedAt: report.startedAt.toISOString() }
}

/** The application's own wiring: listeners are discovered; queue workers report to the dashboard. */
export default class AppServiceProvider extends ServiceProvider {
  override boot() {
    Queue.before((report) => toDashboard('job.processing', job(report)))
    Queue.after((report) => toDashboard('job.processed', job(report)))
  }
}
