import type { Job } from '../../jobs/job.ts'
import type { JobDispatcher } from '../../jobs/job-dispatcher.ts'
import { PendingDispatch } from '../../jobs/pending-dispatch.ts'
import { facadeRoot } from '../application-root.ts'

function bus(): JobDispatcher {
  return facadeRoot().make('bus')
}

/**
 * The `Bus` facade: the application's jobs (Laravel's `Bus`), not to be confused with the
 * `EventBus`, which carries events between processes.
 *
 * ```ts
 * await Bus.dispatch(new ProcessPodcast(7)).onQueue('media')
 * await Bus.dispatchSync(new ProcessPodcast(7))
 * ```
 */
export const Bus = {
  /**
   * Queues `job`: the pending dispatch takes `onQueue`/`onConnection`/`delay`, and resolves to
   * the job's id once pushed.
   *
   * ```ts
   * const id = await Bus.dispatch(new ProcessPodcast(7)).delay(60)
   * ```
   */
  dispatch<J extends Job>(job: J): PendingDispatch<J> {
    return new PendingDispatch(job, bus)
  },

  /**
   * Runs `job` now, in this process: middleware, then handle(); a throw calls `failed()` and rejects.
   *
   * ```ts
   * await Bus.dispatchSync(new ProcessPodcast(7))
   * ```
   */
  dispatchSync(job: Job): Promise<unknown> {
    return bus().dispatchSync(job)
  },

  /**
   * Runs `job` in this process once the HTTP response is sent (now, outside a request).
   *
   * ```ts
   * Bus.dispatchAfterResponse(new SendWelcome(user.id))
   * ```
   */
  dispatchAfterResponse(job: Job): void {
    bus().dispatchAfterResponse(job)
  },

  /**
   * Makes classes whose instances travel in jobs' fields known to the serializer (by class name,
   * or `static jobName`), so a worker rebuilds them as instances.
   *
   * ```ts
   * Bus.serializable(Money, Address)   // in a provider's register() or boot()
   * ```
   */
  serializable(...classes: Function[]): void {
    bus().serializable(...classes)
  },
}
