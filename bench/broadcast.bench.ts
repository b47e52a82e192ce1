/**
 * Broadcast fan-out: ShouldBroadcastNow events dispatched through a booted Herald application
 * to 100 socket.io clients on one public channel, against raw socket.io `io.to(room).emit` to
 * the same number of clients, in one run. Run with `npm run bench:broadcast` (add `-- --json` for
 * a machine-readable result on stdout; the table then goes to stderr). BENCH_CLIENTS,
 * BENCH_EVENTS, BENCH_ROUNDS, BENCH_PACED_EVENTS, BENCH_PACED_INTERVAL_MS change the sizes.
 *
 * Processes. Each contender's server runs in a child process of its own (this file, forked
 * with --child), so neither pays for the other's heap, garbage or JIT state:
 * - herald: `bootApplication` (BROADCAST_CONNECTION=socketio, QUEUE_CONNECTION=sync, an empty
 *   base path so the demo app's listeners and wildcard subscribers are not discovered) and
 *   `createApplicationHttpKernel(app)`, the express + Echo socket.io server `artisan serve`
 *   runs, with the broadcast manager attached to it. Each event is
 *   `await app.make('events').dispatch(new BenchEvent(...))` in that process.
 * - raw: a plain socket.io `Server` on a plain HTTP server; `subscribe {channel}` joins the room
 *   (what Herald does for a public channel) and each event is one
 *   `io.to('bench').emit('BenchEvent', 'bench', data)` with the same data.
 * All clients live in one third child process, not in a server's: CLIENTS socket.io-client
 * sockets (transports ['websocket'], one connection each) per server, each emitting
 * `subscribe {channel: 'bench', auth: {}}` on connect as Laravel Echo does and listening for
 * `BenchEvent`. On 2 cores the active server and the clients each get a core; the idle
 * contender's sockets only answer pings. The parent only orchestrates.
 *
 * Clock. Payloads carry `sentAt`, read from process.hrtime just before the event is built; the
 * client reads process.hrtime in its `BenchEvent` handler. hrtime is CLOCK_MONOTONIC, one clock
 * for every process on the host, so cross-process differences are exact.
 *
 * Scenarios, each in ROUNDS rounds after a warm-up round (figures are the median round):
 * 1. burst: EVENTS events dispatched back to back (each dispatch awaited, as application code
 *    would), one contender at a time, the order alternating per round; deliveries/s =
 *    EVENTS x CLIENTS / (last receipt - first dispatch). Latency here is mostly queueing behind
 *    the burst.
 * 2. paced: PACED_EVENTS events per contender, one every PACED_INTERVAL_MS, so no queue builds
 *    up: latency is the cost of one dispatch and its fan-out. Both contenders run in the same
 *    round, event by event (raw's slots half an interval after Herald's, on the shared clock),
 *    so load from elsewhere on the machine lands on both alike.
 * Server CPU is the server process's user+system time from the first dispatch until the last
 * client has its message.
 *
 * The benchmark always exits 0 (1 only when a scenario could not run); targets are reported as
 * MET / NOT MET.
 */
import { createServer } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Server } from 'socket.io'
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client'
import { Channel, Dispatchable, ShouldBroadcastNow, bootApplication } from '../src/index.ts'
import { createApplicationHttpKernel } from '../src/http/http-kernel.ts'
import { BenchChild, serveParent, withTimeout } from './support/child-rpc.ts'
import { median, nowUs, positiveInt } from './support/stats.ts'

const CLIENTS = positiveInt('BENCH_CLIENTS', 100)
const EVENTS = positiveInt('BENCH_EVENTS', 2_000)
const ROUNDS = positiveInt('BENCH_ROUNDS', 7)
const PACED_EVENTS = positiveInt('BENCH_PACED_EVENTS', 300)
const PACED_INTERVAL_MS = positiveInt('BENCH_PACED_INTERVAL_MS', 10)
const CHANNEL = 'bench'
const EVENT_NAME = 'BenchEvent'
/** A round that has not delivered everything by then has lost messages. */
const ROUND_TIMEOUT_MS = 60_000

function cpuUs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since)
  return used.user + used.system
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// ---------------------------------------------------------------------------------------------
// The payload: the same fields, in the same order, for both contenders.

interface BenchPayload {
  seq: number
  sentAt: number
  orderId: number
  status: string
  total: number
  currency: string
}

class BenchEvent extends ShouldBroadcastNow(Dispatchable) {
  constructor(
    readonly seq: number,
    readonly sentAt: number,
    readonly orderId: number,
    readonly status: string,
    readonly total: number,
    readonly currency: string,
  ) {
    super()
  }

  broadcastOn() {
    return new Channel(CHANNEL)
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes

type Contender = 'herald' | 'raw'
type Role = Contender | 'clients'

// ---------------------------------------------------------------------------------------------
// Server children

/** What a server child reports for one round. */
interface ServerRound {
  /** hrtime (µs) just before the first event was built. */
  readonly startedAt: number
  /** hrtime (µs) when the last dispatch (emit) had returned. */
  readonly dispatchedAt: number
}

/** One contender's server, as its child process drives it. */
interface BroadcastServer {
  readonly port: number
  roomSize(): number
  /** Sends event `seq`: what the application code does once per event. */
  send(seq: number): Promise<void> | void
  close(): Promise<void>
}

async function heraldServer(): Promise<BroadcastServer> {
  // An empty base path: the framework alone, without the demo application's discovered
  // listeners (whose wildcard audit subscriber would run for every event).
  const basePath = mkdtempSync(join(tmpdir(), 'herald-bench-broadcast-'))
  const app = await bootApplication({
    basePath,
    loadConfig: false,
    envFile: false,
    env: { LOG_LEVEL: 'silent', BROADCAST_CONNECTION: 'socketio', QUEUE_CONNECTION: 'sync', APP_KEY: 'bench-key' },
  })
  const kernel = await createApplicationHttpKernel(app)
  const { port } = await kernel.listen(0, '127.0.0.1')
  const events = app.make('events')
  return {
    port,
    roomSize: () => kernel.echo.io.of('/').adapter.rooms.get(CHANNEL)?.size ?? 0,
    async send(seq) {
      await events.dispatch(new BenchEvent(seq, nowUs(), 10_000 + seq, 'shipped', 129.95, 'EUR'))
    },
    async close() {
      await app.shutdown()
      rmSync(basePath, { recursive: true, force: true })
    },
  }
}

async function rawServer(): Promise<BroadcastServer> {
  const http = createServer()
  const io = new Server(http, { serveClient: false })
  io.on('connection', (socket) => {
    socket.on('subscribe', (payload: unknown) => {
      const channel = (payload as { channel?: unknown } | null)?.channel
      if (typeof channel === 'string' && channel !== '') void socket.join(channel)
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const port = (http.address() as AddressInfo).port
  return {
    port,
    roomSize: () => io.of('/').adapter.rooms.get(CHANNEL)?.size ?? 0,
    send(seq) {
      const data: BenchPayload = { seq, sentAt: nowUs(), orderId: 10_000 + seq, status: 'shipped', total: 129.95, currency: 'EUR' }
      io.to(CHANNEL).emit(EVENT_NAME, CHANNEL, data)
    },
    close: () => io.close(),
  }
}

async function serverChild(contender: Contender): Promise<void> {
  const server = contender === 'herald' ? await heraldServer() : await rawServer()
  let cpuMark = process.cpuUsage()
  serveParent({
    port: () => server.port,
    async waitForRoom(size) {
      const deadline = Date.now() + 30_000
      while (server.roomSize() !== size) {
        if (Date.now() > deadline) throw new Error(`room "${CHANNEL}" has ${server.roomSize()} sockets, expected ${size}`)
        await sleep(20)
      }
    },
    async burst(count): Promise<ServerRound> {
      const n = Number(count)
      cpuMark = process.cpuUsage()
      const startedAt = nowUs()
      for (let seq = 0; seq < n; seq++) await server.send(seq)
      return { startedAt, dispatchedAt: nowUs() }
    },
    /** One event every `intervalMs`, the first at hrtime `firstAtUs`: the parent interleaves the two servers' slots. */
    async paced(count, intervalMs, firstAtUs): Promise<ServerRound> {
      const n = Number(count)
      const intervalUs = Number(intervalMs) * 1_000
      const first = Number(firstAtUs)
      cpuMark = process.cpuUsage()
      let startedAt = 0
      for (let seq = 0; seq < n; seq++) {
        // Absolute slots, so timer lateness does not accumulate.
        const wait = (first + seq * intervalUs - nowUs()) / 1_000
        if (wait >= 1) await sleep(Math.floor(wait))
        if (seq === 0) startedAt = nowUs()
        await server.send(seq)
      }
      return { startedAt, dispatchedAt: nowUs() }
    },
    /** CPU (µs) since the last round started. */
    cpu: () => cpuUs(cpuMark),
    close: () => server.close(),
  })
}

// ---------------------------------------------------------------------------------------------
// The clients child

/** What the clients report for one round. */
interface ClientRound {
  readonly deliveries: number
  /** hrtime (µs) of the last receipt. */
  readonly lastAt: number
  readonly p50Us: number
  readonly p99Us: number
  readonly maxUs: number
  /** The payload the first socket received first, to check both contenders send the same thing. */
  readonly sample: string
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index]!
}

function clientsChild(): void {
  interface Recording {
    expected: number
    perSocket: number
    received: number
    latencies: Float64Array
    counts: Int32Array
    lastAt: number
    sample: string
    finished: Promise<void>
    done: () => void
  }
  const sockets = new Map<string, ClientSocket[]>()
  // One per contender: in the paced scenario both servers send at once, interleaved.
  const recordings = new Map<string, Recording>()

  serveParent({
    async connect(target, port, count) {
      const n = Number(count)
      const list: ClientSocket[] = []
      const connected: Array<Promise<void>> = []
      for (let k = 0; k < n; k++) {
        const socket = connectClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false })
        const index = k
        connected.push(
          new Promise<void>((resolve, reject) => {
            socket.once('connect', () => resolve())
            socket.once('connect_error', (error) => reject(error))
          }),
        )
        // As Laravel Echo's socket.io connector subscribes to a public channel.
        socket.on('connect', () => socket.emit('subscribe', { channel: CHANNEL, auth: {} }))
        socket.on('disconnect', (reason) => {
          if (reason !== 'io client disconnect') process.stderr.write(`${String(target)} client ${index} disconnected: ${reason}\n`)
        })
        socket.on(EVENT_NAME, (channel: string, data: BenchPayload) => {
          const at = nowUs()
          const r = recordings.get(String(target))
          if (r === undefined || channel !== CHANNEL) return
          if (r.received === 0) r.sample = JSON.stringify([EVENT_NAME, channel, data])
          r.latencies[r.received++] = at - data.sentAt
          r.counts[index]!++
          r.lastAt = at
          if (r.received === r.expected) r.done()
        })
        list.push(socket)
      }
      await Promise.all(connected)
      sockets.set(String(target), list)
    },
    arm(target, perSocket) {
      const list = sockets.get(String(target))
      if (list === undefined) throw new Error(`no clients for ${String(target)}`)
      const n = Number(perSocket)
      const expected = n * list.length
      let done = () => {}
      const finished = new Promise<void>((resolve) => {
        done = resolve
      })
      recordings.set(String(target), {
        expected,
        perSocket: n,
        received: 0,
        latencies: new Float64Array(expected),
        counts: new Int32Array(list.length),
        lastAt: 0,
        sample: '',
        finished,
        done,
      })
    },
    async collect(target): Promise<ClientRound> {
      const r = recordings.get(String(target))
      if (r === undefined) throw new Error(`${String(target)} is not armed`)
      try {
        await withTimeout(r.finished, `receiving every ${String(target)} message`, ROUND_TIMEOUT_MS)
      } catch (error) {
        throw new Error(`${error instanceof Error ? error.message : String(error)}: ${r.received} of ${r.expected} arrived`)
      } finally {
        recordings.delete(String(target))
      }
      const short = [...r.counts].findIndex((count) => count !== r.perSocket)
      if (short !== -1) throw new Error(`client ${short} received ${r.counts[short]} messages, expected ${r.perSocket}`)
      const sorted = r.latencies.sort()
      return {
        deliveries: r.received,
        lastAt: r.lastAt,
        p50Us: percentile(sorted, 50),
        p99Us: percentile(sorted, 99),
        maxUs: sorted[sorted.length - 1]!,
        sample: r.sample,
      }
    },
    close() {
      for (const list of sockets.values()) for (const socket of list) socket.disconnect()
    },
  })
}

// ---------------------------------------------------------------------------------------------
// The parent

type Scenario = 'burst' | 'paced'

interface Sample {
  readonly deliveriesPerSec: number
  readonly p50Us: number
  readonly p99Us: number
  readonly maxUs: number
  /** First dispatch to last dispatch returned (ms). */
  readonly dispatchMs: number
  /** Server CPU from the first dispatch to the last receipt (ms). */
  readonly serverCpuMs: number
}

interface Row {
  scenario: Scenario
  contender: Contender
  label: string
  deliveriesPerSec: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  dispatchMs: number
  serverCpuMs: number
  /** Herald's figure ÷ raw's for throughput; for latency and CPU, Herald's ÷ raw's too (below 1 is better there). */
  throughputRatio: number
  p50Ratio: number
  /** Half the range of the rounds' deliveries/s, in % of the median. */
  throughputSpreadPct: number
  /** Half the range of the rounds' p50, in % of the median. */
  p50SpreadPct: number
  samples: Sample[]
}

interface Target {
  name: string
  herald: number
  limit: number
  unit: string
  met: boolean
}

function halfRangePct(values: readonly number[]): number {
  return ((Math.max(...values) - Math.min(...values)) / 2 / median(values)) * 100
}

const LABELS: Record<Contender, string> = {
  herald: 'herald events.dispatch (ShouldBroadcastNow)',
  raw: "raw socket.io io.to(room).emit",
}

function sample(sent: ServerRound, received: ClientRound, cpu: number): Sample {
  return {
    deliveriesPerSec: (received.deliveries / (received.lastAt - sent.startedAt)) * 1e6,
    p50Us: received.p50Us,
    p99Us: received.p99Us,
    maxUs: received.maxUs,
    dispatchMs: (sent.dispatchedAt - sent.startedAt) / 1_000,
    serverCpuMs: cpu / 1_000,
  }
}

/** One contender alone: `count` events back to back. */
async function burstRound(server: BenchChild, clients: BenchChild, contender: Contender, count: number): Promise<Sample> {
  await clients.call('arm', contender, count)
  const receiving = clients.call<ClientRound>('collect', contender)
  const [sent, received] = await Promise.all([server.call<ServerRound>('burst', count), receiving])
  return sample(sent, received, await server.call<number>('cpu'))
}

/**
 * Both contenders at once, event by event: each sends one event per PACED_INTERVAL_MS, raw's
 * slots half an interval after Herald's, so whatever else the machine is doing lands on both
 * alike. Consecutive events are PACED_INTERVAL_MS / 2 apart, longer than one unbatched fan-out
 * to CLIENTS sockets takes end to end (about 2 ms on 2 cores), so no queue builds; at 2 ms
 * apart the clients' process saturates and the latency measured is queueing again.
 */
async function pacedRound(servers: Record<Contender, BenchChild>, clients: BenchChild): Promise<Record<Contender, Sample>> {
  const contenders = ['herald', 'raw'] as const
  for (const contender of contenders) await clients.call('arm', contender, PACED_EVENTS)
  const firstAt = nowUs() + 50_000
  const offsets: Record<Contender, number> = { herald: 0, raw: (PACED_INTERVAL_MS * 1_000) / 2 }
  const results = await Promise.all(
    contenders.map(async (contender) => {
      const receiving = clients.call<ClientRound>('collect', contender)
      const sending = servers[contender].call<ServerRound>('paced', PACED_EVENTS, PACED_INTERVAL_MS, firstAt + offsets[contender])
      const [sent, received] = await Promise.all([sending, receiving])
      return { sent, received }
    }),
  )
  const cpu = await Promise.all(contenders.map((contender) => servers[contender].call<number>('cpu')))
  return {
    herald: sample(results[0]!.sent, results[0]!.received, cpu[0]!),
    raw: sample(results[1]!.sent, results[1]!.received, cpu[1]!),
  }
}

/** A child process of this script in `role`. */
function newChild(role: Role): BenchChild {
  return new BenchChild(fileURLToPath(import.meta.url), ['--child', role], role)
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  // With --json, stdout carries only the JSON document so it can be piped.
  const out = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line)
  const startedAt = Date.now()

  out(`node ${process.version}, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  out(`${CLIENTS} socket.io-client sockets per server (websocket transport) on public channel "${CHANNEL}", all in one child process;`)
  out('each server in a child process of its own; the parent orchestrates. Latency: payload sentAt vs receipt, hrtime (CLOCK_MONOTONIC).')
  out(
    `burst: ${EVENTS} events back to back, one contender at a time, order alternating; paced: ${PACED_EVENTS} events ` +
      `per contender, one per ${PACED_INTERVAL_MS} ms each, both interleaved in the same round. ${ROUNDS} rounds, after a warm-up; median round.\n`,
  )

  const servers: Record<Contender, BenchChild> = { herald: newChild('herald'), raw: newChild('raw') }
  const clients = newChild('clients')
  const children = [servers.herald, servers.raw, clients]
  const samples: Record<Scenario, Record<Contender, Sample[]>> = { burst: { herald: [], raw: [] }, paced: { herald: [], raw: [] } }
  const payloads: Partial<Record<Contender, string>> = {}
  const contenders: readonly Contender[] = ['herald', 'raw']
  try {
    for (const contender of contenders) {
      const port = await withTimeout(servers[contender].call<number>('port'), `starting the ${contender} server`, 60_000)
      await clients.call('connect', contender, port, CLIENTS)
      await servers[contender].call('waitForRoom', CLIENTS)
    }
    // Warm-up (also checks that both send the same payload).
    for (const contender of contenders) {
      await burstRound(servers[contender], clients, contender, EVENTS)
      await clients.call('arm', contender, 1)
      const receiving = clients.call<ClientRound>('collect', contender)
      await servers[contender].call('burst', 1)
      payloads[contender] = (await receiving).sample.replace(/"sentAt":[\d.e+-]+/, '"sentAt":…')
    }
    await pacedRound(servers, clients)
    if (payloads.herald !== payloads.raw) {
      out(`warning: the payloads differ:\n  herald ${payloads.herald}\n  raw    ${payloads.raw}`)
    }
    for (let r = 0; r < ROUNDS; r++) {
      const order: readonly Contender[] = r % 2 === 0 ? contenders : [...contenders].reverse()
      for (const contender of order) samples.burst[contender].push(await burstRound(servers[contender], clients, contender, EVENTS))
    }
    for (let r = 0; r < ROUNDS; r++) {
      const both = await pacedRound(servers, clients)
      for (const contender of contenders) samples.paced[contender].push(both[contender])
    }
  } catch (error) {
    process.stderr.write(`bench:broadcast could not run: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
    await Promise.allSettled(children.map((child) => child.close()))
    return
  }
  await Promise.allSettled(children.map((child) => child.close()))

  const rows: Row[] = []
  for (const scenario of ['burst', 'paced'] as const) {
    const summary = (contender: Contender) => {
      const list = samples[scenario][contender]
      return {
        deliveriesPerSec: median(list.map((s) => s.deliveriesPerSec)),
        p50Ms: median(list.map((s) => s.p50Us)) / 1_000,
        p99Ms: median(list.map((s) => s.p99Us)) / 1_000,
        maxMs: median(list.map((s) => s.maxUs)) / 1_000,
        dispatchMs: median(list.map((s) => s.dispatchMs)),
        serverCpuMs: median(list.map((s) => s.serverCpuMs)),
      }
    }
    const raw = summary('raw')
    for (const contender of contenders) {
      const s = summary(contender)
      rows.push({
        scenario,
        contender,
        label: LABELS[contender],
        ...s,
        throughputRatio: s.deliveriesPerSec / raw.deliveriesPerSec,
        p50Ratio: s.p50Ms / raw.p50Ms,
        throughputSpreadPct: halfRangePct(samples[scenario][contender].map((x) => x.deliveriesPerSec)),
        p50SpreadPct: halfRangePct(samples[scenario][contender].map((x) => x.p50Us)),
        samples: samples[scenario][contender],
      })
    }
  }

  const header = ['scenario', 'contender', 'deliveries/s', 'spread', 'p50 ms', 'spread', 'p99 ms', 'max ms', 'dispatch ms', 'server CPU ms', 'thr. ratio', 'p50 ratio']
  const cells = rows.map((r) => [
    r.scenario === 'burst' ? `burst ${EVENTS}x${CLIENTS}` : `paced ${PACED_EVENTS}x${CLIENTS} @${PACED_INTERVAL_MS}ms`,
    r.label,
    Math.round(r.deliveriesPerSec).toLocaleString('en-US'),
    `±${r.throughputSpreadPct.toFixed(1)}%`,
    r.p50Ms.toFixed(2),
    `±${r.p50SpreadPct.toFixed(1)}%`,
    r.p99Ms.toFixed(2),
    r.maxMs.toFixed(2),
    r.dispatchMs.toFixed(1),
    r.serverCpuMs.toFixed(0),
    `${r.throughputRatio.toFixed(2)}x`,
    `${r.p50Ratio.toFixed(2)}x`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: readonly string[]): string => c.map((v, i) => (i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ')
  out(line(header))
  out(widths.map((w) => '-'.repeat(w)).join('  '))
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && rows[i]!.scenario !== rows[i - 1]!.scenario) out('')
    out(line(cells[i]!))
  }
  out('\nratios = contender ÷ raw socket.io (throughput: above 1 is faster; p50: below 1 is faster)')
  out('deliveries/s = events x clients / (last receipt - first dispatch); dispatch ms = first to last dispatch returned;')
  out('server CPU = the server process, first dispatch to last receipt; spread = half the range of the rounds.')
  out('paced deliveries/s is bounded by the pacing; its latencies are the figures that matter.')
  out(`payload (both): ${payloads.herald ?? '?'}`)

  const row = (scenario: Scenario, contender: Contender): Row => rows.find((r) => r.scenario === scenario && r.contender === contender)!
  const targets: Target[] = [
    {
      name: 'burst: herald deliveries/s >= 0.8 x raw',
      herald: row('burst', 'herald').deliveriesPerSec,
      limit: 0.8 * row('burst', 'raw').deliveriesPerSec,
      unit: 'deliveries/s',
      met: row('burst', 'herald').deliveriesPerSec >= 0.8 * row('burst', 'raw').deliveriesPerSec,
    },
    {
      name: 'burst: herald p50 <= 1.2 x raw',
      herald: row('burst', 'herald').p50Ms,
      limit: 1.2 * row('burst', 'raw').p50Ms,
      unit: 'ms',
      met: row('burst', 'herald').p50Ms <= 1.2 * row('burst', 'raw').p50Ms,
    },
    {
      name: 'paced: herald p50 <= 1.2 x raw',
      herald: row('paced', 'herald').p50Ms,
      limit: 1.2 * row('paced', 'raw').p50Ms,
      unit: 'ms',
      met: row('paced', 'herald').p50Ms <= 1.2 * row('paced', 'raw').p50Ms,
    },
  ]
  out('\ntargets:')
  for (const t of targets) {
    const fmt = (v: number) => (t.unit === 'ms' ? v.toFixed(2) : Math.round(v).toLocaleString('en-US'))
    out(`  [${t.met ? 'MET    ' : 'NOT MET'}] ${t.name} (herald ${fmt(t.herald)} vs limit ${fmt(t.limit)} ${t.unit})`)
  }
  out(`\ntotal ${((Date.now() - startedAt) / 1_000).toFixed(1)} s`)

  if (json) {
    const document = {
      node: process.version,
      cpus: cpus().length,
      clients: CLIENTS,
      clientsProcess: 'child (one process for all clients; each server in its own child)',
      events: EVENTS,
      pacedEvents: PACED_EVENTS,
      pacedIntervalMs: PACED_INTERVAL_MS,
      rounds: ROUNDS,
      payload: payloads.herald ?? null,
      results: rows,
      targets,
    }
    console.log(JSON.stringify(document, null, 2))
  }
}

const childAt = process.argv.indexOf('--child')
if (childAt === -1) {
  await main()
} else {
  const role = process.argv[childAt + 1] as Role
  if (role === 'clients') clientsChild()
  else await serverChild(role)
}
