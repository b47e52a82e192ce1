import { describe, expect, it } from 'vitest'
import { Command } from 'herald'
import { bindCommand } from '../../src/console/application-command.ts'
import { Output } from '../../src/console/output.ts'
import type { Application } from '../../src/foundation/application.ts'

function io(tty: boolean) {
  const out: string[] = []
  const err: string[] = []
  const output = new Output({ stdout: { write: (chunk: string) => out.push(chunk), isTTY: tty }, stderr: { write: (chunk: string) => err.push(chunk) } }, false)
  return { output, out: () => out.join(''), err: () => err.join('') }
}

class Deploy extends Command.define('deploy {target} {--force} {--steps=3}') {
  static override description = 'Deploy'
  asked: unknown[] = []

  async handle() {
    this.line(`to ${this.argument('target')}`)
    this.info('starting')
    this.warn('careful')
    this.error('not really')
    this.table(['step', 'ok'], [[1, true], [22, null]])
    const bar = this.progress(Number(this.option('steps')))
    bar.advance()
    bar.advance(5)
    bar.finish()
    this.asked.push(await this.confirm('Sure?', false), await this.ask('Tag?', 'latest'), await this.choice('Where?', ['eu', 'us'], 'us'))
    return this.option('force') ? 0 : 4
  }
}

const app = {} as Application

describe('Command', () => {
  it('reads its input and writes lines, warnings, errors, tables and a progress bar printed once off a terminal', async () => {
    const { output, out, err } = io(false)
    const command = new Deploy()
    bindCommand(command, { app, arguments: { target: 'prod' }, options: { force: false, steps: '3' }, output })
    expect(await command.handle()).toBe(4)
    expect(out()).toBe('to prod\nstarting\nstep  ok\n1     true\n22\n3/3 [done]\n')
    expect(err()).toBe('careful\nnot really\n')
    // No terminal: each question takes its default.
    expect(command.asked).toEqual([false, 'latest', 'us'])
  })

  it('redraws the progress bar in place on a terminal', async () => {
    const { output, out } = io(true)
    const command = new Deploy()
    bindCommand(command, { app, arguments: { target: 'x' }, options: { force: true, steps: '2' }, output, answers: { 'Sure?': 'yes', 'Tag?': 'v2', 'Where?': 'eu' } })
    expect(await command.handle()).toBe(0)
    expect(out()).toContain('\r0/2 [                            ]\r1/2 [==============              ]\r2/2 [============================]\r2/2 [============================]\n')
    expect(command.asked).toEqual([true, 'v2', 'eu'])
  })

  it('refuses an answer that is not a choice, and a question nobody can answer', async () => {
    const { output } = io(false)
    const command = new Deploy()
    bindCommand(command, { app, arguments: { target: 'x' }, options: { steps: '0' }, output, answers: { 'Where?': 'mars' } })
    await expect(command.handle()).rejects.toThrow('"mars" is not one of eu, us (for "Where?").')

    class Asks extends Command.define('asks') {
      handle() {
        return this.ask('Name?').then(() => 0)
      }
    }
    const asks = new Asks()
    bindCommand(asks, { app, arguments: {}, options: {}, output })
    await expect(asks.handle()).rejects.toThrow('Cannot ask "Name?": stdin is not a terminal and the question has no default; pass the value as an argument or option.')
  })

  it('says how to run it when it is not running', async () => {
    await expect(new Deploy().handle()).rejects.toThrow('Deploy is not running: run it with artisan, Artisan.call() or runCommand().')
    expect(Deploy.signature).toBe('deploy {target} {--force} {--steps=3}')
  })
})
