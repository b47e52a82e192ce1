import { describe, expect, it } from 'vitest'
import { readCommandSource } from '../../src/console/app-commands.ts'
import { parseSignature } from '../../src/console/signature.ts'
import { suggestCommands } from '../../src/console/suggest.ts'

describe('command signatures', () => {
  it('parses arguments and options, with defaults, lists and descriptions', () => {
    expect(parseSignature('digest:send {user : The user id} {period?} {emails?*} {--dry-run : Only print} {--limit=10} {--queue=} {--tag=* : Tags}', 'x.ts')).toEqual({
      name: 'digest:send',
      arguments: [
        { name: 'user', description: 'The user id', required: true, variadic: false },
        { name: 'period', description: '', required: false, variadic: false },
        { name: 'emails', description: '', required: false, variadic: true },
      ],
      options: [
        { name: 'dry-run', description: 'Only print', kind: 'flag' },
        { name: 'limit', description: '', kind: 'value', default: '10' },
        { name: 'queue', description: '', kind: 'value' },
        { name: 'tag', description: 'Tags', kind: 'list' },
      ],
    })
    expect(parseSignature('report {days=7}', 'x.ts').arguments).toEqual([{ name: 'days', description: '', required: false, variadic: false, default: '7' }])
  })

  it('refuses what it cannot read, naming the file', () => {
    const refusals: Array<[string, string]> = [
      ['Digest', 'x.ts: the signature must start with the command\'s name, e.g. \'digest:send\' (lowercase words, \':\' between namespaces), got "Digest".'],
      ['digest {user', 'x.ts: unexpected text "{user" in the signature: arguments and options go in {braces}.'],
      ['digest user', 'x.ts: unexpected text "user" in the signature: arguments and options go in {braces}.'],
      ['digest {user} {user}', 'x.ts: the argument user is declared twice.'],
      ['digest {users*} {more}', 'x.ts: the list argument users must be the last argument.'],
      ['digest {user?} {more}', 'x.ts: the required argument more comes after the optional user.'],
      ['digest {--}', 'x.ts: "{--}" is not an option: write {--name}, {--name=default}, {--name=} or {--name=*}.'],
      ['digest {9x}', 'x.ts: "{9x}" is not an argument: write {name}, {name?}, {name=default} or {name*}.'],
    ]
    for (const [signature, message] of refusals) expect(() => parseSignature(signature, 'x.ts'), signature).toThrow(message)
  })

  it('reads a command file\'s signature and description from its text, in any quotes', () => {
    const text = `import { Command } from 'herald'\nexport default class A extends Command.define("a:b {--x}") {\n  static override readonly description: string = 'It\\'s A'\n  handle() {}\n}\n`
    expect(readCommandSource('app/commands/a.ts', text)).toMatchObject({ name: 'a:b', description: "It's A", file: 'app/commands/a.ts' })
    expect(readCommandSource('app/commands/b.ts', 'export class B extends Command.define(`b {y?}`) {}')).toMatchObject({ name: 'b', description: '' })
    expect(readCommandSource('app/commands/helper.ts', 'export const x = 1')).toBeNull()
    expect(() => readCommandSource('app/commands/c.ts', 'class C extends Command.define(`c ${x}`) {}')).toThrow('app/commands/c.ts: the signature must be a string literal')
  })
})

describe('command suggestions', () => {
  const names = ['list', 'event:list', 'event:show', 'digest:send', 'make:command', 'make:job']
  it('names the closest commands, else those of the namespace', () => {
    expect(suggestCommands('event:lsit', names)).toBe(' Did you mean event:list?')
    expect(suggestCommands('digest:snd', names)).toBe(' Did you mean digest:send?')
    expect(suggestCommands('make:anything', names)).toBe(' Did you mean one of make:command, make:job?')
    expect(suggestCommands('nosuch:cmd', names)).toBe('')
  })
})
