// The application's schedule: `artisan schedule:work` (or a system cron running
// `artisan schedule:run` every minute) runs these tasks when they are due.
import type { Schedule } from 'herald'

export default (schedule: Schedule) => {
  // Failed jobs older than two days, once a night, on one server however many run the scheduler.
  schedule.command('queue:prune-failed --hours=48').dailyAt('03:00').timezone('Europe/Berlin').onOneServer().description('Forget old failed jobs')
  // Finished batches older than a day.
  schedule.command('queue:prune-batches').daily().onOneServer()
}
