import { Application, type ApplicationOptions } from '../foundation/application.ts'
import type { ServiceProviderClass } from '../foundation/service-provider.ts'
import { EventServiceProvider } from '../events/event-service-provider.ts'
import { EventHandlersServiceProvider } from '../events/handlers/event-handlers-service-provider.ts'
import { DatabaseServiceProvider } from '../database/database-service-provider.ts'
import { QueueServiceProvider } from '../queue/queue-service-provider.ts'
import { JobsServiceProvider } from '../jobs/jobs-service-provider.ts'
import { setJobDispatchTarget } from '../jobs/job.ts'
import { BroadcastServiceProvider } from '../broadcasting/broadcast-service-provider.ts'
import { EventBusServiceProvider } from '../event-bus/event-bus-service-provider.ts'
import { ObservabilityServiceProvider } from '../observability/observability-service-provider.ts'
import { setStaticDispatchTarget } from '../events/dispatchable.ts'
import { setAggregateStoreLocator } from '../events/store/aggregate-root.ts'

/** The framework's own providers, registered before the application's. */
export const frameworkProviders: ServiceProviderClass[] = [
  // First to boot: the ready-made handlers' wildcards go before the discovered listeners.
  EventHandlersServiceProvider,
  EventServiceProvider,
  DatabaseServiceProvider,
  QueueServiceProvider,
  JobsServiceProvider,
  BroadcastServiceProvider,
  EventBusServiceProvider,
  ObservabilityServiceProvider,
]

/** An application with the framework's providers. It backs the facades once booted. */
export function createApplication(options: ApplicationOptions = {}): Application {
  return new Application({ ...options, providers: [...frameworkProviders, ...(options.providers ?? [])] })
}

let root: Application | null = null

/**
 * The application the facades forward to. Before any is set, a bare one (framework providers,
 * nothing booted) is made, so `Event.listen` works in a plain unit test.
 */
export function facadeRoot(): Application {
  root ??= createApplication()
  return root
}

/** Makes `app` the facades' application (`null` forgets it). */
export function setFacadeRoot(app: Application | null): void {
  root = app
}

/**
 * Creates, boots and installs the application the facades use: what `bin/artisan`, the
 * server and a test's `beforeAll` call.
 */
export async function bootApplication(options: ApplicationOptions = {}): Promise<Application> {
  const app = createApplication(options)
  setFacadeRoot(app)
  app.onShutdown(() => {
    if (root === app) setFacadeRoot(null)
  })
  await app.boot()
  return app
}

setStaticDispatchTarget(() => facadeRoot().make('events'))
setJobDispatchTarget(() => facadeRoot().make('bus'))
setAggregateStoreLocator(() => facadeRoot().make('events.store'))
