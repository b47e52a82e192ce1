import { errorMessage } from '../foundation/error-message.ts'
import { isThenable } from '../foundation/promises.ts'
import type { QueuedListenerGateway } from './dispatch-contracts.ts'
import type { DispatchInstrumentation, Trace } from './dispatch-instrumentation.ts'
import type { Dispatch } from './dispatch.ts'
import { listenerLabel, type ListenerEntry } from './listener-registry.ts'
import type { Redactor } from './redaction.ts'
import type { ListenerErrorHandler, RegisteredListener } from './types.ts'

interface Failure {
  readonly entry: ListenerEntry
  readonly error: unknown
}

/**
 * Runs the listeners of one dispatch, the dispatcher's error policy included: one after
 * another, each awaited; `false` stops the rest (`until()`: the first response); a queued
 * listener is pushed to the queue, and queued listeners side by side are pushed together.
 * Every listener runs even when an earlier one throws; then the dispatch rejects with one
 * AggregateError naming the event and the failed listeners, unless `onError` took them.
 */
export class ListenerRunner {
  /** Where queued listeners go; null runs them here, as on the `sync` connection. */
  queue: QueuedListenerGateway | null = null
  errorHandler: ListenerErrorHandler | null = null
  /** The `events.redact` rules the AggregateError's message passes (it quotes listeners' errors). */
  redactor: Redactor | null = null
  private inflight = 0
  private settledWaiters: Array<() => void> = []

  constructor(private readonly instrumentation: DispatchInstrumentation) {}

  /** Runs the listeners; with a queue installed and a queued listener among them, the path that pushes queued ones together. */
  run(dispatch: Dispatch, entries: readonly ListenerEntry[], trace: Trace | null): Promise<unknown> {
    if (dispatch.resolved?.concurrent === true && !dispatch.halt && entries.length > 1) return this.runTogether(dispatch, entries, trace)
    if (!dispatch.halt && this.queue !== null && dispatch.mode !== 'replay' && entries.some((entry) => entry.queued)) return this.runPushing(dispatch, entries, trace)
    return this.runInOrder(dispatch, entries, trace)
  }

  /** One listener after another; `false` stops the rest, and `until()` stops at the first response. */
  private async runInOrder(dispatch: Dispatch, entries: readonly ListenerEntry[], trace: Trace | null): Promise<unknown> {
    const { halt, pick, name, event } = dispatch
    this.inflight++
    const responses: unknown[] = []
    let failures: Failure[] | null = null
    let halted: unknown = undefined
    try {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!
        let response: unknown
        try {
          response = trace === null && !entry.queued ? entry.direct(name, event) : this.invoke(dispatch, entry, trace)
          if (isThenable(response)) response = await response
        } catch (error) {
          failures = await this.failed(failures, error, dispatch, entry)
          continue
        }
        if (halt) {
          const picked = pick === null ? response : pick(response)
          if (picked !== undefined && picked !== null) {
            halted = picked
            break
          }
        }
        if (response === false) break
        responses.push(response)
      }
    } finally {
      if (--this.inflight === 0) this.notifySettled()
    }
    if (failures !== null) throw this.aggregate(dispatch, failures)
    return halt ? halted : responses
  }

  /**
   * `static concurrent = true`: every listener starts at once, in registration order, and the
   * dispatch settles when all have; the responses keep registration order and end before the
   * first `false` (which can stop none of the others: they have started).
   */
  private async runTogether(dispatch: Dispatch, entries: readonly ListenerEntry[], trace: Trace | null): Promise<unknown> {
    this.inflight++
    const responses: unknown[] = []
    let failures: Failure[] | null = null
    try {
      const outcomes = entries.map((entry) => settle(() => this.invoke(dispatch, entry, trace)))
      let stopped = false
      for (let k = 0; k < entries.length; k++) {
        const outcome = await outcomes[k]!
        if (!outcome.ok) failures = await this.failed(failures, outcome.error, dispatch, entries[k]!)
        else if (outcome.value === false) stopped = true
        else if (!stopped) responses.push(outcome.value)
      }
    } finally {
      if (--this.inflight === 0) this.notifySettled()
    }
    if (failures !== null) throw this.aggregate(dispatch, failures)
    return responses
  }

  /** With a queue installed: queued listeners side by side are pushed together (a database queue writes them in one INSERT). */
  private async runPushing(dispatch: Dispatch, entries: readonly ListenerEntry[], trace: Trace | null): Promise<unknown> {
    this.inflight++
    const responses: unknown[] = []
    let failures: Failure[] | null = null
    try {
      for (let i = 0; i < entries.length; i++) {
        const pushing = queuedRun(entries, i)
        if (pushing > 1) {
          const run = entries.slice(i, i + pushing)
          const pushes = run.map((queued) => settle(() => this.invoke(dispatch, queued, trace)))
          for (let k = 0; k < run.length; k++) {
            const pushed = await pushes[k]!
            if (pushed.ok) responses.push(pushed.value)
            else failures = await this.failed(failures, pushed.error, dispatch, run[k]!)
          }
          i += pushing - 1
          continue
        }
        const entry = entries[i]!
        let response: unknown
        try {
          response = this.invoke(dispatch, entry, trace)
          if (isThenable(response)) response = await response
        } catch (error) {
          failures = await this.failed(failures, error, dispatch, entry)
          continue
        }
        if (response === false) break
        responses.push(response)
      }
    } finally {
      if (--this.inflight === 0) this.notifySettled()
    }
    if (failures !== null) throw this.aggregate(dispatch, failures)
    return responses
  }

  /** Resolves when every listener run started so far has finished. */
  settled(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve()
    return new Promise((resolve) => this.settledWaiters.push(resolve))
  }

  /** Returns the error to report, or undefined when the `onError` handler took it. */
  async reportFailure(error: unknown, event: unknown, listener: RegisteredListener): Promise<unknown> {
    if (this.errorHandler === null) return error
    try {
      await this.errorHandler(error, event, listener)
      return undefined
    } catch (handlerError) {
      return handlerError
    }
  }

  /** One listener: pushed to the queue when it is queued (and this is no replay), else run here; under the middleware's hooks with a trace. */
  private invoke(dispatch: Dispatch, entry: ListenerEntry, trace: Trace | null): unknown {
    const gateway = entry.queued && dispatch.mode !== 'replay' ? this.queue : null
    if (trace === null) return gateway !== null ? gateway.push(entry.view, dispatch.name, dispatch.event) : entry.direct(dispatch.name, dispatch.event)
    return this.instrumentation.listener(trace, entry.view, () =>
      gateway !== null ? gateway.push(entry.view, dispatch.name, dispatch.event) : entry.direct(dispatch.name, dispatch.event),
    )
  }

  /** A listener's error: the `onError` handler's, or one more for the dispatch's AggregateError. */
  private async failed(failures: Failure[] | null, error: unknown, dispatch: Dispatch, entry: ListenerEntry): Promise<Failure[] | null> {
    const unhandled = await this.reportFailure(error, dispatch.event, entry.view)
    if (unhandled === undefined) return failures
    return [...(failures ?? []), { entry, error: unhandled }]
  }

  private aggregate(dispatch: Dispatch, failures: readonly Failure[]): AggregateError {
    const list = failures.map(({ entry, error }) => `${listenerLabel(entry.view.name, entry.view.method)} (${errorMessage(error)})`).join(', ')
    const count = failures.length === 1 ? '1 listener' : `${failures.length} listeners`
    const message = `${count} failed for event "${dispatch.name}": ${list}`
    return new AggregateError(
      failures.map((failure) => failure.error),
      this.redactor === null ? message : this.redactor.redactText(message, dispatch.event),
    )
  }

  private notifySettled(): void {
    const waiters = this.settledWaiters
    this.settledWaiters = []
    for (const resolve of waiters) resolve()
  }
}

/** How many listeners from `start` on are queued (none runs here, so they can be pushed together). */
function queuedRun(entries: readonly ListenerEntry[], start: number): number {
  let end = start
  while (end < entries.length && entries[end]!.queued) end++
  return end - start
}

/** Runs `fn`, its result or error as a value: a push that failed is reported in listener order, never left unhandled. */
async function settle(fn: () => unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() }
  } catch (error) {
    return { ok: false, error }
  }
}
