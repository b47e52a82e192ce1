/**
 * Application commands (app/commands) as a user meets them, in a copy of the project:
 * `make:command` writes a command and its test, `artisan list` shows it among the framework's
 * without importing it, it runs with typed arguments and options, `help` and suggestions know
 * it, clashes name both files, `optimize` caches the manifest, the generated test passes
 * unchanged, and `Artisan.call` / `runCommand` run commands from code.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyProject } from '../support/project-copy.ts'
import { run, tree } from '../support/cli-run.ts'

const timeout = 240_000

const reportCommand = `import { Command } from 'herald'

export default class ReportUsers extends Command.define('report:users {user : The user id} {period?} {--dry-run : Only print} {--limit=10 : At most this many} {--tag=*}') {
  static description = 'Report on a user'

  async handle() {
    const user: string = this.argument('user')
    const period: string | undefined = this.argument('period')
    const tags: string[] = this.option('tag')
    this.table(['user', 'period', 'limit', 'tags', 'dry run'], [[user, period ?? '-', this.option('limit'), tags.join(','), this.option('dry-run')]])
    const bar = this.progress(2)
    bar.advance()
    bar.advance()
    bar.finish()
    const who = await this.ask('Who asked?', 'nobody')
    this.info(\`asked by \${who}, \${this.app.config.get('app').name}\`)
    if (this.option('limit') === '0') {
      this.error('A limit of 0 reports nothing.')
      return 3
    }
    return 0
  }
}
`

describe('application commands', () => {
  let copy: ReturnType<typeof copyProject>
  const artisan = (...args: string[]) => run(copy.root, process.execPath, ['bin/artisan', ...args])
  const write = (path: string, text: string) => {
    mkdirSync(join(copy.root, path, '..'), { recursive: true })
    writeFileSync(join(copy.root, path), text)
  }
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  it('make:command writes the command and its test; list shows it in its namespace', { timeout }, async () => {
    expect(await artisan('make:command', 'SendDigest', '--command=digest:send', '--test')).toEqual({
      code: 0,
      stdout: 'CREATE app/commands/send-digest.ts\nCREATE tests/feature/commands/send-digest.test.ts\n',
      stderr: '',
    })
    const source = readFileSync(join(copy.root, 'app/commands/send-digest.ts'), 'utf8')
    expect(source).toContain("export default class SendDigest extends Command.define('digest:send {--dry-run : Only show what would be done}') {")
    expect((await artisan('make:command', 'Billing/PruneInvoices')).stdout).toBe('CREATE app/commands/billing/prune-invoices.ts\n')
    write('app/commands/report-users.ts', reportCommand)

    const list = await artisan('list')
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/\n digest\n {2}digest:send +Describe what digest:send does\n event-bus\n/)
    expect(list.stdout).toMatch(/\n app\n {2}app:billing:prune-invoices +Describe what app:billing:prune-invoices does\n/)
    expect(list.stdout).toMatch(/\n report\n {2}report:users +Report on a user\n/)
    expect(list.stdout).toMatch(/\n event\n {2}event:cache /)
  })

  it('runs a command with its arguments and options, in the booted application', { timeout }, async () => {
    expect(await artisan('digest:send')).toEqual({ code: 0, stdout: 'digest:send: done.\n', stderr: '' })
    expect(await artisan('digest:send', '--dry-run')).toEqual({ code: 0, stdout: '', stderr: 'Dry run: nothing was changed.\n' })
    expect(await artisan('report:users', '7', 'week', '--tag=a', '--tag', 'b', '--limit=5')).toEqual({
      code: 0,
      stdout: 'user  period  limit  tags  dry run\n7     week    5      a,b   false\n2/2 [done]\nasked by nobody, Herald\n',
      stderr: '',
    })
    expect(await artisan('report:users', '8', '--dry-run', '--limit=0')).toEqual({
      code: 3,
      stdout: 'user  period  limit  tags  dry run\n8     -       0            true\n2/2 [done]\nasked by nobody, Herald\n',
      stderr: 'A limit of 0 reports nothing.\n',
    })
    const missing = await artisan('report:users')
    expect({ code: missing.code, stdout: missing.stdout }).toEqual({ code: 1, stdout: '' })
    expect(missing.stderr).toBe("error: missing required argument 'user'\n")
    const unknownOption = await artisan('report:users', '7', '--limt=3')
    expect(unknownOption.code).toBe(1)
    expect(unknownOption.stderr).toContain("unknown option '--limt=3'")
  })

  it('help CMD and CMD --help describe it from its signature', { timeout }, async () => {
    const help = await artisan('help', 'report:users')
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: artisan report:users [options] <user> [period]')
    expect(help.stdout).toContain('Report on a user')
    expect(help.stdout).toMatch(/user +The user id/)
    expect(help.stdout).toMatch(/--limit <value> +At most this many \(default: "10"\)/)
    expect(help.stdout).toMatch(/--tag <value\.\.\.>/)
    expect((await artisan('report:users', '--help')).stdout).toBe(help.stdout)
  })

  it('suggests application commands for a typo, and an unknown command is an error with --help too', { timeout }, async () => {
    expect(await artisan('digest:snd')).toEqual({ code: 1, stdout: '', stderr: 'Command "digest:snd" is not defined. Did you mean digest:send?\n' })
    expect(await artisan('report:user', '7')).toEqual({ code: 1, stdout: '', stderr: 'Command "report:user" is not defined. Did you mean report:users?\n' })
    expect(await artisan('nosuch:cmd', '--help')).toEqual({ code: 1, stdout: '', stderr: 'Command "nosuch:cmd" is not defined.\n' })
    expect(await artisan('event:lst', '--help')).toEqual({ code: 1, stdout: '', stderr: 'Command "event:lst" is not defined. Did you mean event:list?\n' })
    expect(await artisan('digest:snd', '-h')).toEqual({ code: 1, stdout: '', stderr: 'Command "digest:snd" is not defined. Did you mean digest:send?\n' })
    expect(await artisan('help', 'digest:snd')).toEqual({ code: 1, stdout: '', stderr: 'Command "digest:snd" is not defined. Did you mean digest:send?\n' })
  })

  it('list reads the files without importing them: only the chosen command is loaded', { timeout }, async () => {
    write('app/commands/explosive.ts', "import { Command } from 'herald'\nthrow new Error('imported at list')\nexport default class Explosive extends Command.define('explode') {\n  static description = 'Throws when loaded'\n  handle() {}\n}\n")
    write('app/commands/helpers/format.ts', 'export const format = (n: number) => n.toFixed(2)\n')
    const list = await artisan('list')
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/\n {2}explode +Throws when loaded\n/)
    expect(await artisan('digest:send')).toEqual({ code: 0, stdout: 'digest:send: done.\n', stderr: '' })
    const exploded = await artisan('explode')
    expect(exploded.code).toBe(2)
    expect(exploded.stderr).toBe('Error: imported at list\n')
    rmSync(join(copy.root, 'app/commands/explosive.ts'))

    // What list loads: commander, no TypeScript loader, no prompt library, no engine, no app code.
    const trace = join(copy.root, 'imports.txt')
    const traced = await run(copy.root, process.execPath, ['--import', './tests/support/trace-imports.mjs', 'bin/artisan', 'list'], { HERALD_TRACE_IMPORTS: trace })
    expect(traced.code).toBe(0)
    const urls = readFileSync(trace, 'utf8').split('\n').filter((url) => url !== '')
    const packages = new Set(urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []))
    expect([...packages]).toEqual(['commander'])
    expect(urls.filter((url) => url.includes('/app/') || url.includes('/config/'))).toEqual([])
  })

  it('a name that clashes is an error at list and when run, naming both files; other commands still run', { timeout }, async () => {
    write('app/commands/my-list.ts', "import { Command } from 'herald'\nexport default class MyList extends Command.define('event:list') {\n  handle() {}\n}\n")
    const clash = 'The command "event:list" of app/commands/my-list.ts clashes with Herald\'s own "event:list" (src/console/commands/event-list.ts): rename it in its signature.\n'
    expect(await artisan('list')).toEqual({ code: 1, stdout: '', stderr: clash })
    expect(await artisan('event:list')).toEqual({ code: 1, stdout: '', stderr: clash })
    expect(await artisan('digest:send')).toEqual({ code: 0, stdout: 'digest:send: done.\n', stderr: '' })
    rmSync(join(copy.root, 'app/commands/my-list.ts'))

    write('app/commands/digest-again.ts', "import { Command } from 'herald'\nexport default class DigestAgain extends Command.define('digest:send') {\n  handle() {}\n}\n")
    const twice = 'The command "digest:send" is defined twice, in app/commands/digest-again.ts and app/commands/send-digest.ts: rename one of them.\n'
    expect(await artisan('list')).toEqual({ code: 1, stdout: '', stderr: twice })
    expect(await artisan('digest:send')).toEqual({ code: 1, stdout: '', stderr: twice })
    rmSync(join(copy.root, 'app/commands/digest-again.ts'))

    write('app/commands/broken.ts', "import { Command } from 'herald'\nconst name = 'x'\nexport default class Broken extends Command.define(name) {\n  handle() {}\n}\n")
    expect(await artisan('list')).toEqual({
      code: 1,
      stdout: '',
      stderr: "app/commands/broken.ts: the signature must be a string literal in Command.define('name {argument} {--option}'), so artisan list can read it without loading the file.\n",
    })
    write('app/commands/broken.ts', "import { Command } from 'herald'\nexport default class Broken extends Command.define('Broken {user') {\n  handle() {}\n}\n")
    expect((await artisan('list')).stderr).toBe(
      'app/commands/broken.ts: the signature must start with the command\'s name, e.g. \'digest:send\' (lowercase words, \':\' between namespaces), got "Broken".\n',
    )
    rmSync(join(copy.root, 'app/commands/broken.ts'))
    expect((await artisan('list')).code).toBe(0)
  })

  it('optimize caches the events and commands manifests; optimize:clear removes them', { timeout }, async () => {
    const cache = join(copy.root, 'node_modules/.cache/herald/commands.json')
    const optimized = await artisan('optimize')
    expect(optimized.code).toBe(0)
    expect(optimized.stdout).toMatch(/^Events cached: \d+ events, \d+ listeners, \d+ subscribers in node_modules\/.cache\/herald\/events.json\.\n/)
    expect(optimized.stdout).toMatch(/\nCommands cached: 3 application commands in node_modules\/.cache\/herald\/commands.json\.\n$/)
    const cached = JSON.parse(readFileSync(cache, 'utf8')) as { version: number; commands: Array<{ name: string; file: string }> }
    expect(cached.commands.map(({ name, file }) => [name, file])).toEqual([
      ['app:billing:prune-invoices', 'app/commands/billing/prune-invoices.ts'],
      ['report:users', 'app/commands/report-users.ts'],
      ['digest:send', 'app/commands/send-digest.ts'],
    ])

    // With the cache, list reads it, not the folder: a command added since is not seen yet.
    write('app/commands/late.ts', "import { Command } from 'herald'\nexport default class Late extends Command.define('late:one') {\n  static description = 'Added after optimize'\n  handle() {}\n}\n")
    expect((await artisan('list')).stdout).not.toContain('late:one')
    expect(await artisan('digest:send')).toEqual({ code: 0, stdout: 'digest:send: done.\n', stderr: '' })

    expect(await artisan('optimize:clear')).toEqual({ code: 0, stdout: 'Cached events cleared.\nCached commands cleared.\n', stderr: '' })
    expect(existsSync(cache)).toBe(false)
    expect((await artisan('list')).stdout).toMatch(/late:one +Added after optimize/)
    expect(await artisan('optimize:clear')).toEqual({ code: 0, stdout: 'There was no event cache.\nThere was no commands cache.\n', stderr: '' })

    // A broken cache stops list with one line, and optimize:clear still removes it.
    write('node_modules/.cache/herald/commands.json', '{ not json')
    expect(await artisan('list')).toEqual({ code: 1, stdout: '', stderr: `The commands cache ${cache} is not valid JSON: run "artisan optimize:clear".\n` })
    expect(await artisan('optimize:clear')).toEqual({ code: 0, stdout: 'There was no event cache.\nCached commands cleared.\n', stderr: '' })

    // make:command drops a cache, so the new command is listed at once.
    expect((await artisan('optimize')).code).toBe(0)
    const made = await artisan('make:command', 'Later', '--command=late:two')
    expect(made.stdout).toContain('CREATE app/commands/later.ts\n')
    expect(made.stdout).toContain('Commands cache cleared: list scans app/commands again (run "artisan optimize" to cache it anew).\n')
    expect((await artisan('list')).stdout).toMatch(/late:two /)
    rmSync(join(copy.root, 'app/commands/late.ts'))
    rmSync(join(copy.root, 'app/commands/later.ts'))
  })

  it('refuses bad input with one line and exit 1, writing nothing, and never overwrites without --force', { timeout }, async () => {
    const before = tree(copy.root)
    const refusals: Array<[string[], string]> = [
      [['../x'], 'Invalid name "../x": "." and ".." segments are not allowed; generators only write inside app/ and tests/.\n'],
      [['9lives'], 'Invalid name "9lives": "9lives" is not an identifier; use letters and digits, starting with a letter (e.g. OrderShipped).\n'],
      [['Command'], 'Invalid name "Command": "Command" is a name the generated command imports from \'herald\'; choose another, e.g. RunCommand.\n'],
      [['Digest', '--command=Digest Send'], 'Invalid command name "Digest Send": use lowercase words with ":" between namespaces, e.g. digest:send.\n'],
      [['Digest', "--command=x'); evil('"], 'Invalid command name "x\'); evil(\'": use lowercase words with ":" between namespaces, e.g. digest:send.\n'],
      [['MyList', '--command=event:list'], 'The command name "event:list" is Herald\'s own (src/console/commands/event-list.ts): choose another, e.g. app:event-list.\n'],
      [['Helper', '--command=help'], 'The command name "help" is Herald\'s own (the built-in help): choose another, e.g. app:help.\n'],
      [['OtherDigest', '--command=digest:send'], 'The command "digest:send" exists already, in app/commands/send-digest.ts: nothing was written; choose another --command.\n'],
      [['SendDigest', '--command=digest:other'], 'app/commands/send-digest.ts already exists: nothing was written; use --force to overwrite.\n'],
    ]
    for (const [args, stderr] of refusals) {
      const result = await artisan('make:command', ...args)
      expect({ args, ...result }).toEqual({ args, code: 1, stdout: '', stderr })
    }
    expect(tree(copy.root)).toEqual(before)
    const forced = await artisan('make:command', 'SendDigest', '--command=digest:send', '--force')
    expect(forced).toEqual({ code: 0, stdout: 'OVERWRITE app/commands/send-digest.ts\n', stderr: '' })
  })

  it('the project, generated commands included, type-checks', { timeout }, async () => {
    const result = await run(copy.root, join(copy.root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'])
    expect(result.stdout + result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('the generated test passes unchanged; Artisan.call and runCommand run commands in-process', { timeout }, async () => {
    write('tests/feature/commands/from-code.test.ts', fromCodeTest)
    write('app/commands/confirm-me.ts', "import { Command } from 'herald'\nexport default class ConfirmMe extends Command.define('confirm:me') {\n  async handle() {\n    await this.confirm('Really?')\n  }\n}\n")
    const report = join(copy.root, 'generated-tests.json')
    const files = ['tests/feature/commands/send-digest.test.ts', 'tests/feature/commands/from-code.test.ts']
    const result = await run(copy.root, join(copy.root, 'node_modules/.bin/vitest'), ['run', '--reporter=json', `--outputFile=${report}`, ...files])
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      testResults: Array<{ name: string; assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>
    }
    const outcomes = json.testResults.flatMap(({ name, assertionResults }) =>
      assertionResults.map(({ title, status, failureMessages }) => [relative(copy.root, name), title, status, failureMessages.join('\n').slice(0, 500)]),
    )
    expect(outcomes.filter(([, , status]) => status !== 'passed')).toEqual([])
    expect(outcomes.map(([file, title]) => `${file}: ${title}`).sort()).toEqual([
      'tests/feature/commands/from-code.test.ts: Artisan.call passes arguments by name and options with dashes; Artisan.output() is what it wrote',
      'tests/feature/commands/from-code.test.ts: Artisan.call runs framework commands, and refuses an unknown argument or command with exit 1',
      'tests/feature/commands/from-code.test.ts: runCommand answers prompts, and a prompt without a default and without a terminal is a one-line error',
      'tests/feature/commands/send-digest.test.ts: changes nothing with --dry-run',
      'tests/feature/commands/send-digest.test.ts: runs',
    ])
    expect(result.code).toBe(0)
  })
})

const fromCodeTest = `import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Artisan, bootApplication, runCommand, type Application } from 'herald'

const cwd = fileURLToPath(new URL('../../../', import.meta.url))

describe('from code', () => {
  let app: Application
  beforeAll(async () => {
    app = await bootApplication({ basePath: cwd })
  })
  afterAll(() => app.shutdown())

  it('Artisan.call passes arguments by name and options with dashes; Artisan.output() is what it wrote', async () => {
    const code = await Artisan.call('report:users', { user: 7, period: 'week', '--dry-run': true, '--limit': 5, '--tag': ['a', 'b'] })
    expect(Artisan.output()).toBe('user  period  limit  tags  dry run\\n7     week    5      a,b   true\\n2/2 [done]\\nasked by nobody, Herald\\n')
    expect(code).toBe(0)
    expect(await Artisan.call('report:users', { user: 1, '--limit': 0 })).toBe(3)
    expect(Artisan.output()).toContain('A limit of 0 reports nothing.')
    // It ran in the booted application, which is still up.
    expect(app.isBooted).toBe(true)
  })

  it('Artisan.call runs framework commands, and refuses an unknown argument or command with exit 1', async () => {
    expect(await Artisan.call('event:list', { '--json': true })).toBe(0)
    expect(JSON.parse(Artisan.output())).toBeTruthy()
    expect(await Artisan.call('report:users', { user: 1, usr: 2 })).toBe(1)
    expect(Artisan.output()).toBe('The command "report:users" has no argument "usr" (it has user, period); options are given as \\'--name\\'.\\n')
    expect(await Artisan.call('report:usrs', { user: 1 })).toBe(1)
    expect(Artisan.output()).toBe('Command "report:usrs" is not defined. Did you mean report:users?\\n')
  })

  it('runCommand answers prompts, and a prompt without a default and without a terminal is a one-line error', async () => {
    const answered = await runCommand('report:users', { user: 2 }, { answers: { 'Who asked?': 'ops' } })
    expect(answered).toMatchObject({ code: 0, stderr: '' })
    expect(answered.output).toContain('asked by ops, Herald')

    const { code, stderr } = await runCommand('confirm:me', {}, { cwd })
    expect({ code, stderr }).toEqual({ code: 1, stderr: 'Cannot ask "Really?": stdin is not a terminal and the question has no default; pass the value as an argument or option.\\n' })
  })
})
`
