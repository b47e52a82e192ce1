/**
 * Dispatch throughput: Herald's `Dispatcher` against named baselines, with 1 and 10 trivial
 * listeners on one class event. Run with `npm run bench:dispatch` (add `-- --json` for a
 * machine-readable result on stdout; the table then goes to stderr).
 *
 * Method: every contender is warmed up, then measured in ROUNDS rounds of ROUND_MS each. The
 * contender order rotates every round so slow drift (thermal, GC pressure, a noisy neighbour)
 * is spread over everyone instead of landing on whoever runs last; the reported figure is the
 * median round. Every iteration constructs a fresh event (with one shared Date, so the
 * allocation is the same small object for all contenders) and every awaiting contender's
 * dispatch is awaited before the next one starts. node:events is synchronous, so it is
 * measured without an await and labelled as such: it is a ceiling, not a like-for-like rival.
 *
 * The benchmark always exits 0; targets are reported as MET / NOT MET.
 */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import Emittery from 'emittery'
import eventemitter2 from 'eventemitter2'
import { Application } from '@adonisjs/application'
import { Emitter as AdonisEmitter } from '@adonisjs/events'
import { Dispatcher } from '../src/index.ts'

// eventemitter2 is CommonJS: its module.exports is the class, which also carries itself as
// `.EventEmitter2`; that property is the one spelling both Node's ESM loader and NodeNext agree on.
const { EventEmitter2 } = eventemitter2

class OrderPlaced {
  constructor(
    public orderId: number,
    public userId: number,
    public total: number,
    public currency: string,
    public placedAt: Date,
  ) {}
}

type Listener = (event: OrderPlaced) => void

interface Contender {
  readonly id: string
  readonly label: string
  /** Runs `ops` awaited (or, for sync emitters, plain) dispatches. */
  run(ops: number): Promise<void>
}

interface Series {
  readonly listeners: number
  readonly contender: Contender
  readonly samples: number[]
}

const ROUNDS = 5
const ROUND_MS = 300
const WARMUP_MS = 250
/** Ops per timing check: large enough that reading the clock is noise, small enough to stop near ROUND_MS. */
const BATCH = 2_000
const LISTENER_COUNTS = [1, 10] as const
const EVENT_NAME = 'OrderPlaced'

// The listeners write here and the result is printed, so V8 cannot drop their work.
let sink = 0
const placedAt = new Date(1_700_000_000_000)
let nextId = 0

function makeEvent(): OrderPlaced {
  const id = ++nextId
  return new OrderPlaced(id, id & 1023, 19.99, 'EUR', placedAt)
}

/** Distinct closures: Herald and emittery ignore a function registered twice for one event. */
function makeListeners(count: number): Listener[] {
  const list: Listener[] = []
  for (let i = 0; i < count; i++) {
    list.push((event) => {
      sink += event.total + i
    })
  }
  return list
}

function herald(listeners: readonly Listener[]): Contender {
  const dispatcher = new Dispatcher()
  for (const listener of listeners) dispatcher.listen(OrderPlaced, listener)
  return {
    id: 'herald',
    label: 'herald Dispatcher.dispatch',
    async run(ops) {
      for (let i = 0; i < ops; i++) await dispatcher.dispatch(makeEvent())
    },
  }
}

function nodeEvents(listeners: readonly Listener[]): Contender {
  const emitter = new EventEmitter()
  emitter.setMaxListeners(listeners.length + 1)
  for (const listener of listeners) emitter.on(EVENT_NAME, listener)
  return {
    id: 'node-events',
    label: 'node:events emit (sync, not awaited)',
    async run(ops) {
      for (let i = 0; i < ops; i++) emitter.emit(EVENT_NAME, makeEvent())
    },
  }
}

function emittery(listeners: readonly Listener[]): Contender {
  const emitter = new Emittery<{ [EVENT_NAME]: OrderPlaced }>()
  for (const listener of listeners) emitter.on(EVENT_NAME, listener)
  return {
    id: 'emittery',
    label: 'emittery emit',
    async run(ops) {
      for (let i = 0; i < ops; i++) await emitter.emit(EVENT_NAME, makeEvent())
    },
  }
}

function eventEmitter2(listeners: readonly Listener[]): Contender {
  const emitter = new EventEmitter2({ maxListeners: listeners.length + 1 })
  for (const listener of listeners) emitter.on(EVENT_NAME, listener)
  return {
    id: 'eventemitter2',
    label: 'eventemitter2 emitAsync',
    async run(ops) {
      for (let i = 0; i < ops; i++) await emitter.emitAsync(EVENT_NAME, makeEvent())
    },
  }
}

function adonis(listeners: readonly Listener[]): Contender {
  // The Emitter only uses the app to resolve lazily imported listener classes; an unbooted
  // Application is what the package's own tests construct it with.
  const app = new Application(new URL('./', import.meta.url), { environment: 'web', importer: () => {} })
  const emitter = new AdonisEmitter<Record<string, never>>(app)
  for (const listener of listeners) emitter.on(OrderPlaced, listener)
  return {
    id: 'adonis',
    label: '@adonisjs/events emit (class event)',
    async run(ops) {
      for (let i = 0; i < ops; i++) await emitter.emit(OrderPlaced, makeEvent())
    },
  }
}

function bareLoop(listeners: readonly Listener[]): Contender {
  const list = [...listeners]
  const dispatch = async (event: OrderPlaced): Promise<void> => {
    for (const listener of list) await listener(event)
  }
  return {
    id: 'bare-loop',
    label: 'floor: for..of await l(e)',
    async run(ops) {
      for (let i = 0; i < ops; i++) await dispatch(makeEvent())
    },
  }
}

const FACTORIES = [herald, nodeEvents, emittery, eventEmitter2, adonis, bareLoop] as const

/** Runs whole batches until `ms` have passed; returns ops/s. */
async function measure(contender: Contender, ms: number): Promise<number> {
  let ops = 0
  const start = performance.now()
  let elapsed = 0
  do {
    await contender.run(BATCH)
    ops += BATCH
    elapsed = performance.now() - start
  } while (elapsed < ms)
  return (ops / elapsed) * 1000
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function formatOps(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

interface Row {
  listeners: number
  contender: string
  label: string
  opsPerSec: number
  heraldRatio: number
  spreadPct: number
  samples: number[]
}

interface Target {
  listeners: number
  name: string
  herald: number
  required: number
  met: boolean
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  // With --json, stdout carries only the JSON document so it can be piped.
  const out = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line)

  const series: Series[] = []
  for (const count of LISTENER_COUNTS) {
    for (const factory of FACTORIES) {
      series.push({ listeners: count, contender: factory(makeListeners(count)), samples: [] })
    }
  }

  out(`node ${process.version}, ${ROUNDS} rounds x ${ROUND_MS} ms per contender (median), warm-up ${WARMUP_MS} ms`)
  out('fresh OrderPlaced (5 fields, shared Date) per iteration; every awaiting dispatch is awaited\n')

  for (const s of series) await measure(s.contender, WARMUP_MS)
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < series.length; k++) {
      const s = series[(k + round * 5) % series.length]!
      s.samples.push(await measure(s.contender, ROUND_MS))
    }
  }

  const rows: Row[] = []
  for (const count of LISTENER_COUNTS) {
    const group = series.filter((s) => s.listeners === count)
    const heraldOps = median(group.find((s) => s.contender.id === 'herald')!.samples)
    for (const s of group) {
      const ops = median(s.samples)
      rows.push({
        listeners: count,
        contender: s.contender.id,
        label: s.contender.label,
        opsPerSec: ops,
        heraldRatio: heraldOps / ops,
        spreadPct: ((Math.max(...s.samples) - Math.min(...s.samples)) / ops) * 100,
        samples: s.samples,
      })
    }
  }

  const header = ['listeners', 'contender', 'ops/s (median)', 'herald ratio', 'spread']
  const cells = rows.map((r) => [
    String(r.listeners),
    r.label,
    formatOps(r.opsPerSec),
    `${r.heraldRatio.toFixed(2)}x`,
    `±${(r.spreadPct / 2).toFixed(1)}%`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: readonly string[]): string =>
    c.map((v, i) => (i === 0 || i === 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ')
  out(line(header))
  out(widths.map((w) => '-'.repeat(w)).join('  '))
  let previous = rows[0]?.listeners
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]!.listeners !== previous) out('')
    previous = rows[i]!.listeners
    out(line(cells[i]!))
  }
  out('\nherald ratio = herald ops/s ÷ contender ops/s (above 1 means Herald is faster)')

  const targets: Target[] = []
  for (const count of LISTENER_COUNTS) {
    const ops = (id: string): number => rows.find((r) => r.listeners === count && r.contender === id)!.opsPerSec
    const h = ops('herald')
    targets.push({ listeners: count, name: 'herald >= eventemitter2 emitAsync', herald: h, required: ops('eventemitter2'), met: h >= ops('eventemitter2') })
    targets.push({ listeners: count, name: 'herald >= 0.5 x bare loop', herald: h, required: 0.5 * ops('bare-loop'), met: h >= 0.5 * ops('bare-loop') })
  }
  out('\ntargets:')
  for (const t of targets) {
    out(
      `  [${t.met ? 'MET    ' : 'NOT MET'}] ${String(t.listeners).padStart(2)} listener(s): ${t.name}` +
        ` (herald ${formatOps(t.herald)} vs needed ${formatOps(t.required)} ops/s)`,
    )
  }
  out(`\n(sink ${sink.toExponential(3)})`)

  if (json) {
    const document = {
      node: process.version,
      rounds: ROUNDS,
      roundMs: ROUND_MS,
      warmupMs: WARMUP_MS,
      eventPerIteration: 'fresh',
      results: rows,
      targets,
    }
    console.log(JSON.stringify(document, null, 2))
  }
}

await main()
