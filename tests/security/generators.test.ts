import { execFile } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { copyProject } from '../support/project-copy.ts'

/**
 * Attacks on the generators (make:*, stub:publish) on the real file system, through the real
 * CLI in a copy of the project: a symbolic link planted where a generator writes must never
 * be followed, and a refused name must leave the tree exactly as it was.
 */

interface Run {
  code: number
  stdout: string
  stderr: string
}

const childEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')))

function artisan(cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/artisan', ...args],
      { cwd, env: { ...childEnv, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 2) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/**
 * Every entry under app/, tests/ and stubs/, links included and not followed: files with their
 * content, folders, links with their target. Two listings are equal only if nothing was made,
 * removed or changed.
 */
function tree(root: string): Map<string, string> {
  const entries = new Map<string, string>()
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      const key = relative(root, path)
      if (entry.isSymbolicLink()) entries.set(key, `link -> ${readlinkSync(path)}`)
      else if (entry.isDirectory()) {
        entries.set(key, 'folder')
        walk(path)
      } else entries.set(key, `file ${readFileSync(path, 'utf8')}`)
    }
  }
  for (const folder of ['app', 'tests', 'stubs']) if (existsSync(join(root, folder))) walk(join(root, folder))
  return entries
}

/** A refusal: exit 1, nothing on stdout, exactly one line on stderr (returned). */
function expectRefused(run: Run): string {
  expect(run, JSON.stringify(run)).toMatchObject({ code: 1, stdout: '' })
  expect(run.stderr.endsWith('\n')).toBe(true)
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(run.stderr).not.toMatch(/\n\s+at /)
  return run.stderr.trimEnd()
}

describe('generators never follow a symbolic link', () => {
  let copy: ReturnType<typeof copyProject>
  let outside: string
  /** Links (and renamed folders) a test planted, undone after it. */
  const undo: Array<() => void> = []

  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())
  beforeEach(() => {
    outside = mkdtempSync(join(tmpdir(), 'herald-outside-'))
  })
  afterEach(() => {
    for (const step of undo.splice(0).reverse()) step()
    rmSync(outside, { recursive: true, force: true })
    // stubs/ back to its one .gitkeep, whatever a test (or a regression) published there.
    for (const name of readdirSync(path('stubs'))) if (name !== '.gitkeep') rmSync(path('stubs', name), { recursive: true, force: true })
  })

  const path = (...parts: string[]) => join(copy.root, ...parts)
  const link = (target: string, at: string) => {
    mkdirSync(join(path(at), '..'), { recursive: true })
    symlinkSync(target, path(at))
    undo.push(() => unlinkSync(path(at)))
  }

  it('make:event refuses a dangling link at its target, and writes nothing outside', async () => {
    link(join(outside, 'dangle.ts'), 'app/events/dangle.ts')
    const before = tree(copy.root)
    const message = expectRefused(await artisan(copy.root, 'make:event', 'Dangle'))
    expect(message).toBe(
      'app/events/dangle.ts is a symbolic link: generators never write through a link (it could point outside the project). Remove the link, or replace it with a real file. Nothing was written.',
    )
    expect(existsSync(join(outside, 'dangle.ts'))).toBe(false)
    expect(readdirSync(outside)).toEqual([])
    expect(tree(copy.root)).toEqual(before)
  })

  it('make:event --test writes neither file when its test target is a dangling link', async () => {
    link(join(outside, 'dangle.test.ts'), 'tests/unit/events/dangle-twice.test.ts')
    const before = tree(copy.root)
    expect(expectRefused(await artisan(copy.root, 'make:event', 'DangleTwice', '--test'))).toContain(
      'tests/unit/events/dangle-twice.test.ts is a symbolic link',
    )
    expect(existsSync(path('app/events/dangle-twice.ts'))).toBe(false)
    expect(readdirSync(outside)).toEqual([])
    expect(tree(copy.root)).toEqual(before)
  })

  it('make:test and make:test --unit refuse a dangling link under tests/', async () => {
    link(join(outside, 'feature.ts'), 'tests/feature/dangle.test.ts')
    link(join(outside, 'unit.ts'), 'tests/unit/dangle.test.ts')
    const before = tree(copy.root)
    expect(expectRefused(await artisan(copy.root, 'make:test', 'Dangle'))).toContain('tests/feature/dangle.test.ts is a symbolic link')
    expect(expectRefused(await artisan(copy.root, 'make:test', 'Dangle', '--unit'))).toContain('tests/unit/dangle.test.ts is a symbolic link')
    expect(readdirSync(outside)).toEqual([])
    expect(tree(copy.root)).toEqual(before)
  })

  it('--force does not overwrite through a link to an existing outside file', async () => {
    writeFileSync(join(outside, 'secret.ts'), 'outside content\n')
    link(join(outside, 'secret.ts'), 'app/events/secret.ts')
    link(join(outside, 'secret.ts'), 'tests/unit/secret.test.ts')
    const before = tree(copy.root)
    // Refused either by the lstat check or, since this link leads outside, by the stub's target check.
    expect(expectRefused(await artisan(copy.root, 'make:event', 'Secret', '--force'))).toMatch(
      /app\/events\/secret\.ts.*(is a symbolic link|a symlink leads outside)/,
    )
    expect(expectRefused(await artisan(copy.root, 'make:test', 'Secret', '--unit', '--force'))).toMatch(
      /tests\/unit\/secret\.test\.ts.*(is a symbolic link|a symlink leads outside)/,
    )
    expect(readFileSync(join(outside, 'secret.ts'), 'utf8')).toBe('outside content\n')
    expect(readdirSync(outside)).toEqual(['secret.ts'])
    expect(tree(copy.root)).toEqual(before)
  })

  it('refuses a linked parent folder: app/events -> a folder outside', async () => {
    renameSync(path('app/events'), path('app/events.real'))
    undo.push(() => renameSync(path('app/events.real'), path('app/events')))
    link(outside, 'app/events')
    const before = tree(copy.root)
    expectRefused(await artisan(copy.root, 'make:event', 'Escaped'))
    expectRefused(await artisan(copy.root, 'make:event', 'Admin/Escaped', '--force'))
    expect(readdirSync(outside)).toEqual([])
    expect(tree(copy.root)).toEqual(before)
  })

  it('refuses any linked folder below the root, even one pointing back inside the project', async () => {
    link(path('app/listeners'), 'app/events/looped')
    const before = tree(copy.root)
    expect(expectRefused(await artisan(copy.root, 'make:event', 'Looped/Inside'))).toContain('app/events/looped is a symbolic link')
    expect(existsSync(path('app/listeners/inside.ts'))).toBe(false)
    expect(tree(copy.root)).toEqual(before)
  })

  it('make:listener that would also create its event writes nothing when the event target is a link', async () => {
    link(join(outside, 'linked.ts'), 'app/events/linked-thing.ts')
    const before = tree(copy.root)
    expect(expectRefused(await artisan(copy.root, 'make:listener', 'NotifyLinked', '--event=LinkedThing', '--test'))).toContain(
      'app/events/linked-thing.ts is a symbolic link',
    )
    expect(readdirSync(outside)).toEqual([])
    expect(tree(copy.root)).toEqual(before)
  })

  it('stub:publish refuses a link in stubs/ and publishes nothing', async () => {
    link(join(outside, 'event.stub'), 'stubs/event.stub')
    const before = tree(copy.root)
    expect(expectRefused(await artisan(copy.root, 'stub:publish'))).toContain('stubs/event.stub is a symbolic link')
    expect(expectRefused(await artisan(copy.root, 'stub:publish', '--force'))).toContain('stubs/event.stub is a symbolic link')
    expect(readdirSync(outside)).toEqual([])
    expect(tree(copy.root)).toEqual(before)
  })

  it('stub:publish --force leaves an outside file a stub links to untouched', async () => {
    writeFileSync(join(outside, 'listener.stub'), 'edited elsewhere\n')
    link(join(outside, 'listener.stub'), 'stubs/listener.stub')
    const before = tree(copy.root)
    expectRefused(await artisan(copy.root, 'stub:publish', '--force'))
    expect(readFileSync(join(outside, 'listener.stub'), 'utf8')).toBe('edited elsewhere\n')
    expect(tree(copy.root)).toEqual(before)
  })

  it('stub:publish refuses a linked stubs/ folder', async () => {
    renameSync(path('stubs'), path('stubs.real'))
    undo.push(() => renameSync(path('stubs.real'), path('stubs')))
    link(outside, 'stubs')
    const before = tree(copy.root)
    expectRefused(await artisan(copy.root, 'stub:publish'))
    expect(readdirSync(outside)).toEqual([])
    expect(tree(copy.root)).toEqual(before)
  })

  it('--force still overwrites a real file: in place, keeping its mode, leaving no temporary file', async () => {
    expect((await artisan(copy.root, 'make:event', 'Overwritten')).code).toBe(0)
    const file = path('app/events/overwritten.ts')
    writeFileSync(file, '// edited\n')
    chmodSync(file, 0o600)
    const run = await artisan(copy.root, 'make:event', 'Overwritten', '--force', '--broadcast')
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toContain('OVERWRITE app/events/overwritten.ts')
    expect(lstatSync(file).isFile()).toBe(true)
    expect(readFileSync(file, 'utf8')).toContain('export class Overwritten extends ShouldBroadcast(Dispatchable)')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(path('app/events')).filter((name) => name.startsWith('.herald-'))).toEqual([])
    unlinkSync(file)
  })
})

describe('refused names are one line, exit 1, and create nothing', () => {
  let copy: ReturnType<typeof copyProject>
  beforeAll(() => {
    copy = copyProject()
  })
  afterAll(() => copy.remove())

  const long = 'A'.repeat(300)
  const refused: Array<[string, string[]]> = [
    ['a 300-character name', ['make:event', long]],
    ['a 300-character nested name', ['make:event', `Admin/${long}`]],
    ['a 300-character test name', ['make:test', long, '--unit']],
    ['a 300-character listener and event', ['make:listener', 'Fine', `--event=${long}`]],
    ['odd characters', ['make:event', 'Order$hipped']],
    ['a space', ['make:event', 'Order Shipped']],
    ['a newline', ['make:event', 'Order\nShipped']],
    ['an escape sequence', ['make:event', 'Order\u001b[2JShipped']],
    ['non-ASCII letters', ['make:event', 'Bestellung\u00dcbermittelt']],
    ['a parent segment', ['make:event', '../Escaped']],
    ['a nested parent segment', ['make:event', 'Admin/../../Escaped']],
    ['an absolute path', ['make:event', '/tmp/Escaped']],
    ['a backslash', ['make:test', 'Admin\\Escaped']],
    ['an empty segment', ['make:listener', 'Admin//Escaped']],
    ['a reserved word', ['make:event', 'Class']],
    ['a name Herald imports', ['make:subscriber', 'Listener']],
    ['an empty name', ['make:event', '']],
    ['a blank name', ['make:test', '   ']],
  ]

  it.each(refused)('%s', async (_what, args) => {
    const before = tree(copy.root)
    const message = expectRefused(await artisan(copy.root, ...args))
    expect(message.length).toBeLessThan(400)
    expect(message).not.toContain('\u001b')
    expect(tree(copy.root)).toEqual(before)
  })

  it('a 300-character name is refused by its length, not with ENAMETOOLONG', async () => {
    const message = expectRefused(await artisan(copy.root, 'make:event', `Admin/Deep/${long}`))
    expect(message).toContain('(311 characters): a name is at most 200 characters')
    expect(message).not.toContain('ENAMETOOLONG')
    expect(existsSync(join(copy.root, 'app/events/admin'))).toBe(false)
  })

  it('a stub whose path grows a file name past 255 bytes is refused before any folder is made', async () => {
    mkdirSync(join(copy.root, 'stubs'), { recursive: true })
    const stub = join(copy.root, 'stubs', 'test.unit.stub')
    const text = readFileSync(join(copy.root, 'src/console/stubs/test.unit.stub'), 'utf8')
    writeFileSync(stub, text.replace(/^to: .*$/m, 'to: tests/unit/{{ path }}-{{ fileName }}-{{ fileName }}.test.ts'))
    try {
      const before = tree(copy.root)
      const message = expectRefused(await artisan(copy.root, 'make:test', `Deeper/Nested/${'B'.repeat(100)}`, '--unit'))
      expect(message).toMatch(/is 3\d\d bytes; a file or folder name is at most 255: choose a shorter name\. Nothing was written\.$/)
      expect(existsSync(join(copy.root, 'tests/unit/deeper'))).toBe(false)
      expect(tree(copy.root)).toEqual(before)
    } finally {
      rmSync(stub)
    }
  })
})
