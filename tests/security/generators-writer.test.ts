import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { UserError } from '../../src/foundation/errors.ts'
import { inspectTarget } from '../../src/console/generator/path-guard.ts'
import { writeAllOrNone } from '../../src/console/generator/write-files.ts'

/** The generators' writer on its own: all or none, within app/, tests/ and stubs/, never through a link. */
describe('writeAllOrNone', () => {
  let root: string
  let outside: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'herald-writer-'))
    outside = mkdtempSync(join(tmpdir(), 'herald-writer-outside-'))
    mkdirSync(join(root, 'app'))
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
    rmSync(outside, { recursive: true, force: true })
  })

  function refusal(call: () => unknown): string {
    try {
      call()
    } catch (error) {
      expect(error).toBeInstanceOf(UserError)
      return (error as Error).message
    }
    throw new Error('expected a refusal')
  }

  it('creates the files and their folders', () => {
    const written = writeAllOrNone(root, [{ to: 'app/events/a/b.ts', content: 'b' }, { to: 'tests/unit/c.test.ts', content: 'c' }], false)
    expect(written).toEqual([
      { to: 'app/events/a/b.ts', overwritten: false },
      { to: 'tests/unit/c.test.ts', overwritten: false },
    ])
    expect(readFileSync(join(root, 'app/events/a/b.ts'), 'utf8')).toBe('b')
    expect(readFileSync(join(root, 'tests/unit/c.test.ts'), 'utf8')).toBe('c')
  })

  it('removes the files and folders it created when a later file fails', () => {
    // Both pass the plan (nothing exists yet); writing the first makes the second impossible.
    const message = refusal(() =>
      writeAllOrNone(root, [{ to: 'app/new/one.ts', content: '1' }, { to: 'app/new/one.ts/two.ts', content: '2' }], false),
    )
    expect(message).toContain('app/new/one.ts is not a folder')
    expect(readdirSync(join(root, 'app'))).toEqual([])
  })

  it('never writes outside app/, tests/ and stubs/', () => {
    for (const to of ['config/x.ts', 'app/../x.ts', 'app', '/etc/x', 'node_modules/x.js', 'app//x.ts', 'app\\x.ts']) {
      expect(refusal(() => writeAllOrNone(root, [{ to, content: 'x' }], true))).toMatch(/only write inside app\/, tests\/ and stubs\//)
    }
    expect(readdirSync(root)).toEqual(['app'])
  })

  it('refuses a link at any depth, even a dangling one, before creating anything', () => {
    symlinkSync(join(outside, 'missing'), join(root, 'app', 'linked'))
    expect(refusal(() => writeAllOrNone(root, [{ to: 'tests/first.ts', content: '1' }, { to: 'app/linked/deep/x.ts', content: 'x' }], true))).toBe(
      'app/linked is a symbolic link: generators never write through a link (it could point outside the project). Remove the link, or replace it with a real folder. Nothing was written.',
    )
    expect(existsSync(join(root, 'tests'))).toBe(false)
    expect(readdirSync(outside)).toEqual([])
  })

  it('overwrites with force by replacing the file, not writing through it', () => {
    writeFileSync(join(root, 'app', 'x.ts'), 'old')
    expect(refusal(() => writeAllOrNone(root, [{ to: 'app/x.ts', content: 'new' }], false))).toBe(
      'app/x.ts already exists: nothing was written; use --force to overwrite.',
    )
    expect(writeAllOrNone(root, [{ to: 'app/x.ts', content: 'new' }], true)).toEqual([{ to: 'app/x.ts', overwritten: true }])
    expect(readFileSync(join(root, 'app', 'x.ts'), 'utf8')).toBe('new')
    expect(readdirSync(join(root, 'app'))).toEqual(['x.ts'])
  })

  it('checks each name (255 bytes) and the whole path (4,095 bytes)', () => {
    expect(refusal(() => inspectTarget(root, `app/${'é'.repeat(128)}.ts`))).toContain('is 259 bytes; a file or folder name is at most 255')
    const deep = `app/${Array.from({ length: 20 }, () => 'f'.repeat(250)).join('/')}/x.ts`
    expect(refusal(() => inspectTarget(root, deep))).toMatch(/would be \d+ bytes; a path is at most 4095/)
    expect(inspectTarget(root, `app/${'a'.repeat(252)}.ts`)).toMatchObject({ exists: false, missingFolders: [] })
  })
})
