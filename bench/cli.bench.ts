/**
 * CLI start-up: median wall time of `artisan list`, `artisan list` with 50 application
 * commands in app/commands (a temporary copy of the project, listed by reading the files'
 * text, no cache), `artisan make:event X` (in that copy, a new name each run) and the floor,
 * `node -e 0`, measured in one run, interleaved so drift lands on all of them. Prints the
 * ratios to the floor and the targets (list <= 2x with or without the 50 commands, make:event
 * <= 2.5x). Run with `npm run bench:cli`.
 */
import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { copyProject, projectRoot } from '../tests/support/project-copy.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 15)

interface Contender {
  readonly label: string
  readonly run: (i: number) => void
  readonly samples: number[]
}

function timed(cwd: string, args: (i: number) => string[]): (i: number) => void {
  return (i) => {
    const result = spawnSync(process.execPath, args(i), { cwd, encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`${args(i).join(' ')} exited ${result.status}: ${result.stderr}`)
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const APP_COMMANDS = 50

const copy = copyProject()
try {
  // 50 application commands, made the way a user makes them.
  for (let i = 0; i < APP_COMMANDS; i++) {
    timed(copy.root, () => ['bin/artisan', 'make:command', `BenchCommand${i}`, `--command=bench${i % 5}:command-${i}`])(i)
  }
  const listed = spawnSync(process.execPath, ['bin/artisan', 'list'], { cwd: copy.root, encoding: 'utf8' }).stdout.match(/^ {2}bench\d:command-\d+ /gm)?.length ?? 0
  if (listed !== APP_COMMANDS) throw new Error(`artisan list shows ${listed} of the ${APP_COMMANDS} application commands`)
  const contenders: Contender[] = [
    { label: 'node -e 0', run: timed(projectRoot, () => ['-e', '0']), samples: [] },
    { label: 'artisan list', run: timed(projectRoot, () => ['bin/artisan', 'list']), samples: [] },
    { label: `artisan list (${APP_COMMANDS} app cmds)`, run: timed(copy.root, () => ['bin/artisan', 'list']), samples: [] },
    {
      label: 'artisan make:event X',
      run: timed(copy.root, (i) => ['bin/artisan', 'make:event', `BenchEvent${i}`]),
      samples: [],
    },
  ]
  for (const contender of contenders) contender.run(-1) // warm the disk cache
  for (let i = 0; i < RUNS; i++) {
    for (const contender of contenders) {
      const start = performance.now()
      contender.run(i)
      contender.samples.push(performance.now() - start)
    }
  }
  const floor = median(contenders[0]!.samples)
  const targets: Record<string, number> = { 'artisan list': 2, [`artisan list (${APP_COMMANDS} app cmds)`]: 2, 'artisan make:event X': 2.5 }
  console.log(`node ${process.version}, ${RUNS} runs each, interleaved; median wall time\n`)
  console.log(`${'command'.padEnd(30)}${'median ms'.padStart(10)}${'ratio'.padStart(8)}  target`)
  for (const { label, samples } of contenders) {
    const ms = median(samples)
    const ratio = ms / floor
    const target = targets[label]
    const verdict = target === undefined ? '(floor)' : `<= ${target}x ${ratio <= target ? 'MET' : 'NOT MET'}`
    console.log(`${label.padEnd(30)}${ms.toFixed(1).padStart(10)}${`${ratio.toFixed(2)}x`.padStart(8)}  ${verdict}`)
  }
} finally {
  copy.remove()
}
