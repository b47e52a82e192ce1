// Herald's public API: application code imports from 'herald' and nothing deeper.
export { Application, type ApplicationOptions } from './foundation/application.ts'
export { ServiceProvider, type ServiceProviderClass } from './foundation/service-provider.ts'
export { Container, type ContainerBindings } from './foundation/container.ts'
export { Env, type EnvSource } from './foundation/env.ts'
export {
  defineConfig,
  defaultHttpConfig,
  defaultLimiterConfig,
  ConfigRepository,
  type AppConfig,
  type HttpConfig,
  type DatabaseConfig,
  type QueueConfig,
  type QueueLimiterConfig,
  type HeraldConfig,
  type ConfigFactory,
} from './foundation/config.ts'
export { defaultEventsConfig, type EventsConfig, type WebhookFormat, type WebhookDocument } from './foundation/events-config.ts'
export { slackMessage, SLACK_TEXT_LIMIT, type SlackMessage } from './events/handlers/slack-message.ts'
export type { WebhookFormatter } from './events/handlers/webhook-format.ts'
export { createLogger, type Logger, type LogLevel } from './foundation/logger.ts'

export { Dispatcher, type SubscriberInstance } from './events/dispatcher.ts'
export { EventValidationError } from './events/event-validation.ts'
export { type QueuedListenerGateway, type DispatchRecord, type EventMiddleware } from './events/dispatch-contracts.ts'
export { currentEventContext, withEventContext, type EventContext } from './events/event-context.ts'
export { ulid } from './foundation/ulid.ts'
export { createRedactor, normalizeKey, REDACTED, type RedactRule, type Redactor, type RedactorOptions } from './events/redaction.ts'
export { EventStore } from './events/store/event-store.ts'
export type { StoredEvent } from './events/store/stored-events-table.ts'
export type { StoredEventFilter } from './events/store/dispatch-log.ts'
export type { StreamEvent, AppendResult, ExpectedVersion } from './events/store/event-streams.ts'
export { ConcurrencyError } from './events/store/concurrency-error.ts'
export { EventReplayer, type ReplayOptions, type ReplayStep, type ReplaySummary } from './events/store/event-replayer.ts'
export { AggregateRoot } from './events/store/aggregate-root.ts'
export type { Upcasters, EventFields } from './events/store/upcasting.ts'
export type { Snapshot } from './events/store/snapshots.ts'
export {
  ShouldQueue,
  ShouldBroadcast,
  ShouldBroadcastNow,
  ShouldDispatchAfterCommit,
  isShouldQueue,
  isShouldBroadcast,
  isShouldBroadcastNow,
  isShouldDispatchAfterCommit,
  type QueueOptions,
  type BroadcastOptions,
} from './events/contracts.ts'
export { Channel, PrivateChannel, PresenceChannel } from './broadcasting/channels.ts'
export { Dispatchable, eventClassName } from './events/dispatchable.ts'
export { Listener, Subscriber, routedMethodName, type ListenerBase, type SubscriberBase } from './events/listener.ts'
export { EventFake, restoreAllFakes, type FakeOptions, type FakePayload, type RecordedDispatch } from './events/event-fake.ts'
export type { DiscoveryReport } from './events/discovery.ts'
export type { EventListing, ListedEvent, ListedListener } from './events/event-listing.ts'
export type { EventDescription, JsonSchema } from './events/event-catalog.ts'
export { defineEvents, type DeclaredEvents, type StringEventDeclaration, type StringEventDeclarations } from './events/event-declarations.ts'
export { LogSubscriber } from './events/handlers/log-subscriber.ts'
export { JsonLinesSubscriber, type JsonLinesOptions } from './events/handlers/json-lines-subscriber.ts'
export { WebhookListener, WebhookSubscriber, WEBHOOK_DELIVERY, type WebhookDelivery, type WebhookOptions } from './events/handlers/webhook-listener.ts'
export type { EventDocument } from './events/handlers/event-document.ts'
export type {
  EventsList,
  EventClass,
  EventKey,
  KnownEventName,
  PayloadOf,
  WildcardPattern,
  ListenerFunction,
  WildcardListenerFunction,
  ListenerClass,
  ListenerLike,
  RegisteredListener,
  ListenerErrorHandler,
} from './events/types.ts'

export { createApplication, bootApplication, facadeRoot, setFacadeRoot } from './support/application-root.ts'
// Your own artisan commands (app/commands), and running commands from code and tests.
export { Command, type CommandClass } from './console/application-command.ts'
export type { ArgumentsOf, OptionsOf } from './console/signature-types.ts'
export type { ProgressBar } from './console/progress-bar.ts'
export type { PromptAnswers } from './console/prompts.ts'
export { Artisan, runCommand, type CallOptions, type CommandParameters, type CommandResult } from './console/artisan-call.ts'
export { Event } from './support/facades/event.ts'
export { Queue } from './support/facades/queue.ts'
export { Bus } from './support/facades/bus.ts'
export { Job, isJob, jobNameOf, type JobBatch, type JobClass, type JobOptions } from './jobs/job.ts'
export { PendingDispatch } from './jobs/pending-dispatch.ts'
export { JobDispatcher, type JobMiddleware, type JobExtension } from './jobs/job-dispatcher.ts'
export { JobsServiceProvider } from './jobs/jobs-service-provider.ts'
export { PendingChain } from './jobs/chain.ts'
export { Batch, PendingBatch, type BatchDescription } from './jobs/batch.ts'
export { BusFake, restoreAllBusFakes, type BusRecord, type ChainDescription, type FakeBatch, type JobMatcher } from './jobs/bus-fake.ts'
export type { JobFailure } from './jobs/job-codec.ts'
export { JobWorkflows } from './jobs/job-workflows.ts'
export { ShouldBeUnique, ShouldBeUniqueUntilProcessing, isShouldBeUnique, isShouldBeUniqueUntilProcessing, type UniqueJobOptions } from './jobs/unique.ts'
export { WithoutOverlapping } from './jobs/middleware/without-overlapping.ts'
export { JobLocks, type LockPlace } from './jobs/locks/job-locks.ts'
export { MemoryLockStore, type LockStore } from './jobs/locks/lock-store.ts'
export { DatabaseLockStore } from './jobs/locks/database-lock-store.ts'
export { Limit, RateLimiter, RateLimited, ThrottlesExceptions, Skip } from './jobs/middleware/index.ts'
export { DB } from './support/facades/db.ts'
export { DatabaseManager } from './database/database-manager.ts'
export { QueueManager, type PushedJob } from './queue/queue-manager.ts'
export { QueueFake, restoreAllQueueFakes, type PushTarget, type PushedBatch } from './queue/queue-fake.ts'
export { JobRunner, type JobDefaults } from './queue/job-runner.ts'
export type { JobHookCallback, JobHookName, JobHookPayloads, JobReport, JobStarting } from './queue/job-hooks.ts'
export type { QueueDriver, DeliveredJob, JobOutcome, PushOptions, ConsumeOptions } from './queue/driver.ts'
export { jobDisplayName, type JobEnvelope } from './queue/envelope.ts'
export { PayloadDecodeError } from './foundation/payload-decode-error.ts'
export { MemoryFailedJobStore, type FailedJob, type FailedJobStore } from './queue/failed-job-store.ts'
export type { InteractsWithQueue } from './events/contracts.ts'
export { ShouldPublish, isShouldPublish } from './events/contracts.ts'
export type { PublishGateway } from './events/dispatch-contracts.ts'
export { EventBus } from './support/facades/event-bus.ts'
export { EventBusFake, restoreAllEventBusFakes, type PublishedEvent, type PublishTarget } from './event-bus/event-bus-fake.ts'
export { EventBusManager, type EventBusDependencies, type WorkOptions } from './event-bus/event-bus-manager.ts'
export type { BusDelivery, BusListener, SubscribeOptions } from './event-bus/subscriptions.ts'
export type { BusMessage, BusGroup, BusGroupStatus, EventBusDriver, ConsumeOptions as BusConsumeOptions } from './event-bus/event-bus-driver.ts'
export { defaultEventBusConfig, type EventBusConfig } from './foundation/event-bus-config.ts'
export { Migrator, createMigrator, type MigrationRun, type MigrationStatus } from './database/migrator.ts'
export type { Knex } from 'knex'

export { Broadcast, broadcast } from './support/facades/broadcast.ts'
export {
  BroadcastManager,
  type BroadcastQueue,
  type BroadcastInterceptor,
  type RecordedBroadcast,
  type ServerAdapter,
} from './broadcasting/broadcast-manager.ts'
export {
  BroadcastFake,
  restoreAllBroadcastFakes,
  type BroadcastTarget,
  type ChannelTarget,
  type BroadcastPredicate,
} from './broadcasting/broadcast-fake.ts'
export { PendingBroadcast } from './broadcasting/pending-broadcast.ts'
export { AnonymousBroadcast, type ChannelLike } from './broadcasting/anonymous-broadcast.ts'
export { withSocketId, currentSocketId, socketIdMiddleware } from './broadcasting/socket-context.ts'
export { ChannelRegistry, type RegisteredChannel } from './broadcasting/channel-registry.ts'
export type { BroadcastMessage, BroadcastDelivery, BroadcastDriver, BroadcastUser, ChannelCallback } from './broadcasting/contracts.ts'
export type { BroadcastGateway } from './events/dispatch-contracts.ts'
export type { BroadcastingConfig, BroadcastConnectionConfig } from './foundation/config.ts'
export { defaultOpsConfig, type OpsConfig } from './foundation/ops-config.ts'
export { defaultBroadcastLimits, defaultAllowedOrigins, type BroadcastLimits } from './foundation/config.ts'
// The socket.io server and the HTTP kernel load socket.io and express: only their types are
// exported here, so that importing 'herald' (every booted command) loads no engine. What
// starts the web server imports src/http/http-kernel.ts itself.
export { defaultUserResolver } from './broadcasting/default-user-resolver.ts'
export type { UserResolver, AuthRequest } from './broadcasting/contracts.ts'
export type { PresenceMember } from './broadcasting/channel-registry.ts'
export type { EchoServer, EchoServerOptions } from './broadcasting/socket-server.ts'
export type { HttpKernel, HttpKernelOptions } from './http/http-kernel.ts'
export { defineRoutes, type RouteGroups, type RouteRegistrar } from './http/routes.ts'
export { named as namedMiddleware, type ListedRoute } from './http/route-table.ts'
export { validate, type Rules, type Validated } from './http/validation.ts'
export { HttpError, ValidationError, type FieldErrors } from './http/http-error.ts'
export { csrfProtection, createCsrfToken, isCsrfToken, CSRF_COOKIE, type CsrfOptions } from './http/csrf.ts'
export { generateAppKey, parseAppKey, signingKey } from './foundation/app-key.ts'
export type { ViewFactory, ViewOptions, ViewData } from './http/views.ts'
export type { HealthReport, HealthStatus } from './http/health.ts'

// The scheduler (app/schedule.ts, artisan schedule:*).
export { Schedule } from './support/facades/schedule.ts'
export { Schedule as TaskSchedule, commandWords } from './scheduling/schedule.ts'
export { ScheduledTask, type TaskAction, type TaskFilter, type TaskSummary } from './scheduling/scheduled-task.ts'
export { ScheduleRunner, type ScheduleRunnerDependencies, type TaskReport } from './scheduling/schedule-runner.ts'
export { ScheduleWorker, type ScheduleWorkerOptions } from './scheduling/schedule-worker.ts'
export { scheduleFor, loadSchedule, scheduleRunner } from './scheduling/schedule-loader.ts'
export { ScheduledTaskStarting, ScheduledTaskFinished, ScheduledTaskFailed, ScheduledTaskSkipped, type SkipReason } from './scheduling/scheduled-task-events.ts'
export { SUNDAY, MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY } from './scheduling/frequencies.ts'
