/**
 * The developer's commands, as a user runs them in a copy of the project: tinker (--execute and
 * the REPL), event:dispatch, route:list, channel:list, and serve --watch / queue:work --watch
 * restarting on an edit.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { io } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { createApplication } from 'herald'
import { copyProject } from '../support/project-copy.ts'

interface Run {
  code: number
  stdout: string
  stderr: string
}

const copy = copyProject()
const children = new Set<ChildProcess>()
const env = { ...process.env, NO_COLOR: '1', LOG_LEVEL: 'silent' }
const timeout = 120_000

function artisan(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 2) : 0, stdout, stderr })
    })
  })
}

/** A long-running artisan command, its output collected. */
function start(args: string[]) {
  const child = spawn(process.execPath, ['bin/artisan', ...args], { cwd: copy.root, env, stdio: ['pipe', 'pipe', 'pipe'] })
  children.add(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, exited, output: () => output }
}

const file = (path: string) => (existsSync(join(copy.root, path)) ? readFileSync(join(copy.root, path), 'utf8') : '')

/** A listener that leaves a trace of each OrderPlaced it handles: what event:dispatch must reach. */
const traceListener = `import { appendFileSync } from 'node:fs'
import { Listener } from 'herald'
import { OrderPlaced } from '../events/order-placed.ts'

export default class TraceOrder extends Listener.for(OrderPlaced) {
  handle(event: OrderPlaced) {
    appendFileSync('orders-traced.log', event.orderId + ' ' + event.items.map((item) => item.sku).join(',') + '\\n')
  }
}
`

beforeAll(async () => {
  writeFileSync(join(copy.root, 'app/listeners/trace-order.ts'), traceListener)
  writeFileSync(
    join(copy.root, 'app/events/report-requested.ts'),
    `import { Dispatchable, ShouldQueue } from 'herald'

/** Queued whole: its listeners run on a worker. */
export class ReportRequested extends ShouldQueue(Dispatchable) {
  static example = { reportId: 3 }
  constructor(public readonly reportId: number) {
    super()
  }
}
`,
  )
  writeFileSync(
    join(copy.root, 'app/listeners/note-ping.ts'),
    `import { appendFileSync } from 'node:fs'
import { Listener } from 'herald'

export default class NotePing extends Listener.for('ping.sent') {
  handle(payload: { n: number }) {
    appendFileSync('pings.log', payload.n + '\\n')
  }
}
`,
  )
  expect((await artisan('migrate')).code).toBe(0)
}, timeout)

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  copy.remove()
})

describe('artisan tinker', () => {
  it('--execute prints what Event.fake() recorded and the value of a top-level await', { timeout }, async () => {
    const run = await artisan(
      'tinker',
      '--execute',
      'Event.fake(); await OrderPlaced.dispatch(7, 1, [{ sku: "BOOK-1", quantity: 2 }], 1500); const n: number = await Promise.resolve(41); n + 1',
    )
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toMatch(/\[Event\.fake\] would dispatch OrderPlaced OrderPlaced \{ orderId: 7, userId: 1, items: \[ \{ sku: 'BOOK-1', quantity: 2 \} \], total: 1500/)
    expect(run.stdout.trim().split('\n').at(-1)).toBe('42')
    // Faked: the listener did not run.
    expect(file('orders-traced.log')).toBe('')
  })

  it('--execute: an error is one line on stderr and exit 1', { timeout }, async () => {
    const run = await artisan('tinker', '--execute', 'await Promise.reject(new RangeError("no such order"))')
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'RangeError: no such order\n' })
    const syntax = await artisan('tinker', '--execute', 'const = 1')
    expect(syntax.code).toBe(1)
    expect(syntax.stderr.trim().split('\n')).toHaveLength(1)
    expect(syntax.stderr).toMatch(/^SyntaxError: /)
  })

  it('the REPL has the app in scope, awaits at the top level and leaves on .exit', { timeout }, async () => {
    const repl = start(['tinker'])
    // One line at a time, each once the previous one's answer is there, as a person types.
    const say = async (line: string, answer: RegExp) => {
      const before = repl.output().length
      repl.child.stdin!.write(`${line}\n`)
      await expect.poll(() => repl.output().slice(before), { timeout: 30_000 }).toMatch(answer)
    }
    await expect.poll(repl.output, { timeout: 60_000 }).toContain('herald> ')
    expect(repl.output()).toMatch(/In scope: app, Event, Queue, Bus, DB, Broadcast, EventBus, .*OrderPlaced.*TraceOrder/)
    await say('Event.getListeners(OrderPlaced).map((l) => l.name).includes("TraceOrder")', /true/)
    await say('const rows = await DB.connection().then((db) => db("jobs").count({ n: "*" }))', /undefined/)
    await say('typeof rows[0].n', /'number'/)
    await say('let typed: string = "annotations are stripped"; typed', /'annotations are stripped'/)
    repl.child.stdin!.write('.exit\n')
    expect(await repl.exited).toBe(0)
  })
})

describe('artisan event:dispatch', () => {
  it('--example builds OrderPlaced from its catalog example and reaches its listeners', { timeout }, async () => {
    const run = await artisan('event:dispatch', 'OrderPlaced', '--example')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^Dispatched OrderPlaced \(broadcast event class\) \{"orderId":1,"userId":1,"items":\[\{"sku":"BOOK-1","quantity":1\}\]/)
    expect(run.stdout).toMatch(/ran\s+TraceOrder/)
    expect(run.stdout).toMatch(/queued\s+SendOrderConfirmation \(job \w+\)/)
    expect(run.stdout).toMatch(/broadcast OrderPlaced on orders, private-orders\.1/)
    expect(file('orders-traced.log')).toBe('1 BOOK-1\n')
  })

  it('--payload is checked by the schema; a string event takes its JSON as it is', { timeout }, async () => {
    const run = await artisan('event:dispatch', 'OrderPlaced', `--payload=${JSON.stringify({ orderId: 9, userId: 2, items: [{ sku: 'MUG-2', quantity: 1 }], total: 900, email: '' })}`)
    expect(run.code).toBe(0)
    expect(file('orders-traced.log')).toContain('9 MUG-2\n')
    const string = await artisan('event:dispatch', 'ping.sent', '--payload={"n":1}')
    expect(string).toMatchObject({ code: 0, stderr: '' })
    expect(string.stdout).toMatch(/^Dispatched ping\.sent \(string event\) \{"n":1\}\n\s+ran\s+NotePing/)
    expect(file('pings.log')).toBe('1\n')
  })

  it('a ShouldQueue event is queued whole, and the output says so with its job', { timeout }, async () => {
    const run = await artisan('event:dispatch', 'ReportRequested', '--example')
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toMatch(/^Dispatched ReportRequested \(queued event class\) \{"reportId":3\}\n\s+queued\s+ReportRequested \(the event, for its listeners on a worker\) \(job \w+\)\n$/)
  })

  it.each([
    [['OrderPlacd', '--example'], 'Event "OrderPlacd" is not known: did you mean OrderPlaced?'],
    [['OrderPlaced', '--payload=[1,2]'], '--payload must be a JSON object, got an array.'],
    [['OrderPlaced', '--payload=42'], '--payload must be a JSON object, got number.'],
    [['OrderPlaced', '--payload={orderId: 1}'], /^--payload is not valid JSON: /],
    [['OrderPlaced', '--payload={"orderId":0}'], /^Event "OrderPlaced" has an invalid payload: orderId: Too small/],
    [['OrderPlaced', '--example', '--payload={}'], 'Give --payload or --example, not both.'],
    [['UserRegistered', '--example'], /^Event "UserRegistered" has no example payload/],
  ])('%j is refused with one line and exit 1', { timeout }, async (args, message) => {
    const run = await artisan('event:dispatch', ...args)
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr.split('\n')).toHaveLength(2)
    if (typeof message === 'string') expect(run.stderr).toBe(`${message}\n`)
    else expect(run.stderr).toMatch(message)
  })
})

describe('route:list and channel:list', () => {
  it('route:list shows each route with its middleware and controller', { timeout }, async () => {
    const run = await artisan('route:list')
    expect(run.code).toBe(0)
    const lines = run.stdout.split('\n')
    expect(lines[0]).toMatch(/^Method\s+Path\s+Middleware\s+Handler$/)
    expect(lines).toContainEqual(expect.stringMatching(/^POST\s+\/api\/orders\s+json\s+app\/http\/controllers\/orders-controller\.ts#storeOrderFromApi$/))
    expect(lines).toContainEqual(expect.stringMatching(/^POST\s+\/orders\s+form, json, csrf\s+app\/http\/controllers\/orders-controller\.ts#storeOrder$/))
    expect(lines).toContainEqual(expect.stringMatching(/^GET\s+\/health\s+ops:health\s+health$/))
    const json = JSON.parse((await artisan('route:list', '--json')).stdout) as { routes: Array<{ methods: string[]; path: string; middleware: string[]; handler: string; controller: string | null }> }
    expect(json.routes).toContainEqual({
      methods: ['POST'],
      path: '/failed-jobs/:id/retry',
      middleware: ['form', 'json', 'csrf'],
      handler: 'retryFailedJob',
      controller: 'app/http/controllers/dashboard-controller.ts#retryFailedJob',
    })
  })

  it('channel:list shows the patterns of app/channels.ts with the line that authorizes each', { timeout }, async () => {
    const run = await artisan('channel:list')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^Channel\s+Parameters\s+Authorized in\norders\.\{userId\}\s+userId\s+app\/channels\.ts:\d+\ndashboard\s+-\s+app\/channels\.ts:\d+\n/)
    const json = JSON.parse((await artisan('channel:list', '--json')).stdout) as { channels: unknown[] }
    expect(json.channels).toEqual([
      { pattern: 'orders.{userId}', parameters: ['userId'], source: expect.stringMatching(/^app\/channels\.ts:\d+$/) },
      { pattern: 'dashboard', parameters: [], source: expect.stringMatching(/^app\/channels\.ts:\d+$/) },
    ])
  })
})

describe('--watch', () => {
  it('serve --watch serves an edited route on the same port, and socket.io clients reconnect', { timeout: 180_000 }, async () => {
    const server = start(['serve', '--watch', '--port', '0'])
    onTestFailed(() => console.log(`serve --watch said:\n${server.output()}`))
    await expect.poll(server.output, { timeout: 60_000 }).toMatch(/Watching app, config, database\/migrations/)
    await expect.poll(server.output, { timeout: 60_000 }).toMatch(/Herald is serving http:\/\/127\.0\.0\.1:(\d+)/)
    const port = /127\.0\.0\.1:(\d+)/.exec(server.output())![1]
    expect((await fetch(`http://127.0.0.1:${port}/api/version`)).status).toBe(404)
    const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 200 })
    let connects = 0
    socket.on('connect', () => connects++)
    await expect.poll(() => connects, { timeout: 20_000 }).toBe(1)

    const routes = join(copy.root, 'app/http/routes.ts')
    const original = readFileSync(routes, 'utf8')
    const timings: number[] = []
    try {
      for (const version of [1, 2]) {
        const edited = original.replace("api.post('/orders', storeOrderFromApi)", `api.post('/orders', storeOrderFromApi)\n  api.get('/version', (_request, response) => { response.json({ version: ${version} }) })`)
        const began = performance.now()
        writeFileSync(routes, edited)
        await expect
          .poll(async () => fetch(`http://127.0.0.1:${port}/api/version`).then((response) => (response.ok ? response.json() : null), () => null), { timeout: 30_000, interval: 10 })
          .toEqual({ version })
        timings.push(performance.now() - began)
        await expect.poll(() => server.output().match(/Restarted the server in \d+ ms/g)?.length ?? 0, { timeout: 10_000 }).toBe(version)
      }
      // Edit → the new route served, measured here: printed for the report.
      console.log(`serve --watch restart (edit → new route served): ${timings.map((ms) => `${Math.round(ms)} ms`).join(', ')}; the supervisor's own count: ${server.output().match(/Restarted the server in \d+ ms/g)!.join(', ')}`)
      expect(server.output()).toContain('Stopped.')
      await expect.poll(() => connects, { timeout: 20_000 }).toBeGreaterThanOrEqual(3)
      expect(socket.connected).toBe(true)
    } finally {
      socket.close()
      writeFileSync(routes, original)
    }
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it('serve --watch lets the old server finish the job in hand before the new one starts', { timeout: 180_000 }, async () => {
    writeFileSync(
      join(copy.root, 'app/listeners/slow-report.ts'),
      `import { appendFileSync, existsSync } from 'node:fs'
import { Listener, ShouldQueue } from 'herald'

// Runs until the test writes release.flag: the job is in hand for as long as the test needs.
export default class SlowReport extends ShouldQueue(Listener.for('report.slow')) {
  async handle() {
    appendFileSync('slow.log', 'start\\n')
    while (!existsSync('release.flag')) await new Promise((resolve) => setTimeout(resolve, 20))
    appendFileSync('slow.log', 'end\\n')
  }
}
`,
    )
    const server = start(['serve', '--watch', '--port', '0'])
    onTestFailed(() => console.log(`serve --watch said:\n${server.output()}`))
    await expect.poll(server.output, { timeout: 60_000 }).toMatch(/Watching app/)
    const app = createApplication({ basePath: copy.root, env: { LOG_LEVEL: 'silent', BROADCAST_CONNECTION: 'null' }, envFile: false })
    await app.boot()
    try {
      await app.make('events').dispatch('report.slow', {})
    } finally {
      await app.shutdown()
    }
    await expect.poll(() => file('slow.log'), { timeout: 20_000, interval: 10 }).toBe('start\n')
    writeFileSync(join(copy.root, 'app/listeners/slow-report.ts'), `${readFileSync(join(copy.root, 'app/listeners/slow-report.ts'), 'utf8')}// edited\n`)
    // The old server was told to stop and waits for its job in hand: no new server yet.
    await expect.poll(server.output, { timeout: 30_000 }).toContain('Stopping: finishing the jobs in hand')
    expect(server.output()).not.toMatch(/Restarted the server/)
    writeFileSync(join(copy.root, 'release.flag'), '')
    await expect.poll(server.output, { timeout: 30_000 }).toMatch(/Restarted the server in \d+ ms/)
    // The job in hand ran to its end in the old server, which stopped only then.
    expect(file('slow.log')).toBe('start\nend\n')
    const restartLine = server.output().indexOf('Restarted the server')
    expect(server.output().indexOf('Stopped.')).toBeLessThan(restartLine)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it('a supervisor that is killed leaves no server behind', { timeout: 120_000 }, async () => {
    const server = start(['serve', '--watch', '--port', '0'])
    await expect.poll(server.output, { timeout: 60_000 }).toMatch(/Watching app/)
    const port = /127\.0\.0\.1:(\d+)/.exec(server.output())![1]
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200)
    server.child.kill('SIGKILL')
    await expect.poll(() => server.output(), { timeout: 20_000 }).toContain('Stopped.')
    await expect.poll(() => fetch(`http://127.0.0.1:${port}/health`).then(() => 'up', () => 'down'), { timeout: 20_000 }).toBe('down')
  })

  it('queue:work --watch restarts the worker on an edit and runs the next job with the new code', { timeout: 180_000 }, async () => {
    const listener = (version: string) => `import { appendFileSync } from 'node:fs'
import { Listener, ShouldQueue } from 'herald'

export default class NoteVersion extends ShouldQueue(Listener.for('version.noted')) {
  handle(payload: { n: number }) {
    appendFileSync('versions.log', '${version} ' + payload.n + '\\n')
  }
}
`
    writeFileSync(join(copy.root, 'app/listeners/note-version.ts'), listener('v1'))
    const dispatch = async (n: number) => {
      const app = createApplication({ basePath: copy.root, env: { LOG_LEVEL: 'silent', BROADCAST_CONNECTION: 'null' }, envFile: false })
      await app.boot()
      try {
        await app.make('events').dispatch('version.noted', { n })
      } finally {
        await app.shutdown()
      }
    }
    const worker = start(['queue:work', '--watch', '--sleep', '0.05'])
    onTestFailed(() => console.log(`queue:work --watch said:\n${worker.output()}`))
    await expect.poll(worker.output, { timeout: 60_000 }).toMatch(/Watching app, config, database\/migrations: the worker restarts on a change/)
    await dispatch(1)
    await expect.poll(() => file('versions.log'), { timeout: 20_000 }).toBe('v1 1\n')

    writeFileSync(join(copy.root, 'app/listeners/note-version.ts'), listener('v2'))
    await expect.poll(worker.output, { timeout: 30_000 }).toMatch(/Restarted the worker in \d+ ms/)
    expect(worker.output()).toMatch(/Stopped \(signal\)/)
    await dispatch(2)
    await expect.poll(() => file('versions.log'), { timeout: 20_000 }).toBe('v1 1\nv2 2\n')
    worker.child.kill('SIGTERM')
    expect(await worker.exited).toBe(0)
  })
})
