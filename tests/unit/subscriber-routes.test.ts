import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Dispatchable, Dispatcher, Subscriber } from 'herald'
import { discoverEvents } from '../../src/events/discovery.ts'

class TaskCreated extends Dispatchable {
  constructor(readonly id: number) {
    super()
  }
}

class Shipped extends Dispatchable {
  static eventName = 'orders.shipped'
  constructor(readonly id: number) {
    super()
  }
}

describe('subscriber pattern routes', () => {
  it('routes a pattern to a method with (eventName, event), next to events routed by convention', async () => {
    const events = new Dispatcher()
    const seen: unknown[] = []
    class TaskSubscriber {
      static events = [TaskCreated, { 'task.*': 'handleTaskEvents', 'task.failed': 'alert' }]
      handleTaskCreated(event: TaskCreated) {
        seen.push(['created', event.id, this instanceof TaskSubscriber])
      }
      handleTaskEvents(eventName: string, event: unknown) {
        seen.push(['pattern', eventName, event])
      }
      alert(event: { reason: string }) {
        seen.push(['alert', event.reason])
      }
    }
    events.subscribe(TaskSubscriber)
    await events.dispatch(new TaskCreated(1))
    await events.dispatch('task.completed', { id: 2 })
    await events.dispatch('task.failed', { reason: 'disk' })
    await events.dispatch('tasks.other', { id: 3 })
    expect(seen).toEqual([
      ['created', 1, true],
      ['pattern', 'task.completed', { id: 2 }],
      // Both routes match task.failed: each runs, in the order written.
      ['pattern', 'task.failed', { reason: 'disk' }],
      ['alert', 'disk'],
    ])
    expect(events.getListeners('task.failed').map(({ name, method, wildcard }) => [name, method, wildcard])).toEqual([
      ['TaskSubscriber', 'handleTaskEvents', true],
      ['TaskSubscriber', 'alert', false],
    ])
  })

  it('takes a route map alone, and a class event by its event name, with one instance for every method', async () => {
    const events = new Dispatcher()
    const seen: unknown[] = []
    let instances = 0
    class OrderRoutes {
      static events = { 'orders.shipped': 'onShipped', '*.created': 'onCreated' }
      constructor() {
        instances++
      }
      onShipped(event: Shipped) {
        seen.push(['shipped', event.id])
      }
      onCreated(eventName: string) {
        seen.push(['created', eventName])
      }
    }
    events.subscribe(OrderRoutes)
    await events.dispatch(new Shipped(7))
    await events.dispatch('users.created', {})
    await events.dispatch('users.created.later', {})
    expect(seen).toEqual([
      ['shipped', 7],
      ['created', 'users.created'],
    ])
    expect(instances).toBe(1)
    expect(events.hasListeners(Shipped)).toBe(true)
  })

  it('keeps the array form and Subscriber.for routing by name', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    class Plain extends Subscriber.for('task.completed') {
      handleTaskCompleted() {
        seen.push('completed')
      }
    }
    events.subscribe(Plain)
    await events.dispatch('task.completed', {})
    expect(seen).toEqual(['completed'])
  })

  it('a routed method returning false stops the event’s later listeners, as any listener', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    class Stopper {
      static events = { 'job.*': 'stop' }
      stop() {
        seen.push('stop')
        return false
      }
    }
    events.subscribe(Stopper)
    events.listen('job.done', () => void seen.push('later'))
    await events.dispatch('job.done', {})
    expect(seen).toEqual(['stop'])
  })

  it('refuses a route to a missing or inherited-from-Object method, or not to a method name, registering nothing', () => {
    const events = new Dispatcher()
    class Missing {
      static events = [{ 'task.done': 'handleTaskDone' }, { 'task.*': 'handleTasks' }]
      handleTaskDone() {}
    }
    expect(() => events.subscribe(Missing)).toThrow('Subscriber "Missing" routes "task.*" to handleTasks(), a method it does not have.')
    // The first route was valid, but nothing is registered when one is not, and it can be fixed and subscribed again.
    expect(events.getListeners('task.done')).toEqual([])

    class Sneaky {
      static events = { 'task.*': 'constructor', 'task.done': 'toString' }
    }
    expect(() => events.subscribe(Sneaky)).toThrow('Subscriber "Sneaky" routes "task.*" to constructor(), a method it does not have.')
    class Numbered {
      static events = { 'task.*': 42 }
    }
    expect(() => events.subscribe(Numbered)).toThrow('Subscriber "Numbered" routes "task.*" to number: a route names a method')
    class Blank {
      static events = { '': 'handle' }
      handle() {}
    }
    expect(() => events.subscribe(Blank)).toThrow('Subscriber "Blank" routes an empty event name: name the event or pattern.')
    class Odd {
      static events = [TaskCreated, 7]
      handleTaskCreated() {}
    }
    expect(() => events.subscribe(Odd)).toThrow(
      "Subscriber \"Odd\" lists number in static events: list event classes, names, or routes like { 'task.*': 'handleTaskEvents' }.",
    )
    expect(events.getListeners(TaskCreated)).toEqual([])
    expect([...events.getListeners().keys()]).toEqual([])
  })

  it('routes event names with odd characters to the method named, as given', async () => {
    const events = new Dispatcher()
    const seen: string[] = []
    class Odd {
      static events = { 'späť:ü/ 1*': 'any', 'a"b': 'quoted' }
      any(eventName: string) {
        seen.push(eventName)
      }
      quoted() {
        seen.push('quoted')
      }
    }
    events.subscribe(Odd)
    await events.dispatch('späť:ü/ 1xyz', {})
    await events.dispatch('a"b', {})
    await events.dispatch('a"bc', {})
    expect(seen).toEqual(['späť:ü/ 1xyz', 'quoted'])
  })

  it('discovery finds a subscriber that declares only a route map', async () => {
    const base = mkdtempSync(join(tmpdir(), 'herald-routes-'))
    mkdirSync(join(base, 'app/subscribers'), { recursive: true })
    writeFileSync(
      join(base, 'app/subscribers/tasks.ts'),
      "export const seen: string[] = []\nexport default class Tasks {\n  static events = { 'task.*': 'all' }\n  all(name: string) { seen.push(name) }\n}\n",
    )
    const events = new Dispatcher()
    const report = await discoverEvents(events, { events: join(base, 'e'), listeners: join(base, 'l'), subscribers: join(base, 'app/subscribers') }, base)
    expect(report.subscribers.map(({ file }) => file)).toEqual(['app/subscribers/tasks.ts'])
    const { seen } = (await import(join(base, 'app/subscribers/tasks.ts'))) as { seen: string[] }
    await events.dispatch('task.started', {})
    expect(seen).toEqual(['task.started'])
  })
})
