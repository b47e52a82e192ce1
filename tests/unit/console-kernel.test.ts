import { describe, expect, it } from 'vitest'
import { runArtisan } from '../../src/console/kernel.ts'
import { UserError } from '../../src/foundation/errors.ts'

function streams(isTTY: boolean) {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    streams: {
      stdout: { write: (chunk: string) => out.push(chunk), isTTY },
      stderr: { write: (chunk: string) => err.push(chunk), isTTY },
    },
  }
}

describe('the console kernel', () => {
  it('colours output on a terminal, and not with --no-ansi or when piped', async () => {
    const tty = streams(true)
    expect(await runArtisan(['list'], { streams: tty.streams })).toBe(0)
    expect(tty.out.join('')).toContain('\u001b[33mAvailable commands:\u001b[0m')

    const noAnsi = streams(true)
    expect(await runArtisan(['list', '--no-ansi'], { streams: noAnsi.streams })).toBe(0)
    expect(noAnsi.out.join('')).not.toContain('\u001b[')
    expect(noAnsi.out.join('')).toContain('Available commands:')

    const piped = streams(false)
    await runArtisan(['list'], { streams: piped.streams })
    expect(piped.out.join('')).not.toContain('\u001b[')
  })

  it('exits 1 with one line for a user error, with no stack', async () => {
    const io = streams(false)
    const code = await runArtisan(['event:list'], {
      streams: io.streams,
      boot: async () => {
        throw new UserError('APP_KEY must be set.')
      },
    })
    expect(code).toBe(1)
    expect(io.err.join('')).toBe('APP_KEY must be set.\n')
  })

  it('exits 2 for an internal error, with the stack only under --verbose', async () => {
    const quiet = streams(false)
    const boom = async (): Promise<never> => {
      throw new Error('disk on fire')
    }
    expect(await runArtisan(['event:list'], { streams: quiet.streams, boot: boom })).toBe(2)
    expect(quiet.err.join('')).toBe('Error: disk on fire\n')

    const verbose = streams(false)
    expect(await runArtisan(['event:list', '--verbose'], { streams: verbose.streams, boot: boom })).toBe(2)
    expect(verbose.err.join('')).toMatch(/^Error: disk on fire\nError: disk on fire\n\s+at boom/)
  })

  it('exits 1 for an unknown option, naming it', async () => {
    const io = streams(false)
    expect(await runArtisan(['event:list', '--colour'], { streams: io.streams })).toBe(1)
    expect(io.err.join('')).toContain("unknown option '--colour'")
  })
})
