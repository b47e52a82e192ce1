/**
 * Benchmarks run each contender in a process of its own, so that neither pays for the other's
 * garbage collection or async hooks. The parent drives them over IPC: `BenchChild.call` runs a
 * method of the child's `serveParent` API and resolves to its result.
 */
import { fork, type ChildProcess } from 'node:child_process'

export type Arg = string | number

interface Request {
  readonly id: number
  readonly method: string
  readonly args: readonly Arg[]
}
type Reply = { readonly id: number; readonly value: unknown } | { readonly id: number; readonly error: string }

/** Rejects with "`what` took longer than `ms` ms" when `work` does not settle in time. */
export async function withTimeout<T>(work: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A forked child answering requests; `call` resolves to the child method's result. */
export class BenchChild {
  private readonly process: ChildProcess
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  private nextRequest = 0
  private exited: Error | null = null

  constructor(script: string, argv: readonly string[], readonly label: string, env: NodeJS.ProcessEnv = process.env) {
    // fork() passes this process's execArgv on, so the child loads TypeScript through tsx too.
    this.process = fork(script, [...argv], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env })
    this.process.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id)
      if (waiting === undefined) return
      this.pending.delete(reply.id)
      if ('error' in reply) waiting.reject(new Error(`${label}: ${reply.error}`))
      else waiting.resolve(reply.value)
    })
    this.process.on('exit', (code, signal) => {
      this.exited = new Error(`the ${label} process exited (${signal ?? code})`)
      for (const waiting of this.pending.values()) waiting.reject(this.exited)
      this.pending.clear()
    })
  }

  call<T>(method: string, ...args: Arg[]): Promise<T> {
    if (this.exited !== null) return Promise.reject(this.exited)
    const id = this.nextRequest++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (value) => resolve(value as T), reject })
      this.process.send({ id, method, args } satisfies Request)
    })
  }

  /** Asks the child to close and exit; kills it if it has not within 10 s. */
  async close(): Promise<void> {
    if (this.exited !== null) return
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()))
    try {
      await withTimeout(this.call('close'), `closing the ${this.label} process`, 10_000)
    } catch {
      // Killed below.
    }
    const killer = setTimeout(() => this.process.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
  }
}

/** The child side: runs the requested methods of `api` (concurrently), then exits on close. */
export function serveParent<A extends Arg>(api: Record<string, (...args: A[]) => unknown>): void {
  process.on('message', async (request: Request) => {
    let reply: Reply
    try {
      const method = api[request.method]
      if (method === undefined) throw new Error(`no method "${request.method}"`)
      reply = { id: request.id, value: (await method(...(request.args as A[]))) ?? null }
    } catch (error) {
      reply = { id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }
    }
    // After close, exit at once: a library timer left behind must not keep the process up.
    process.send!(reply, () => {
      if (request.method === 'close') process.exit(0)
    })
  })
}
