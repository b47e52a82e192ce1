import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { UserError } from '../../src/foundation/errors.ts'
import { renderStub } from '../../src/console/generator/render.ts'
import { defaultStubNames, defaultStubText, parseFrontMatter, splitStub } from '../../src/console/generator/stubs.ts'

describe('stub front-matter', () => {
  it('splits the header from the body', () => {
    expect(splitStub('---\nto: app/events/{{ path }}.ts\n---\nbody\n', 'x')).toEqual({
      frontMatter: 'to: app/events/{{ path }}.ts',
      body: 'body\n',
    })
    expect(splitStub('---\r\nto: a\r\n---\r\nbody', 'x')).toEqual({ frontMatter: 'to: a', body: 'body' })
  })

  it('refuses a stub without front-matter', () => {
    expect(() => splitStub('export class X {}\n', 'stubs/event.stub')).toThrow(
      new UserError('stubs/event.stub has no front-matter: start it with "---", a "to: <output path>" line and "---".'),
    )
  })

  it('reads to:, quoted or not, and ignores blank and # lines', () => {
    expect(parseFrontMatter('# where it goes\n\nto: "app/x.ts"\n', 'x')).toEqual({ to: 'app/x.ts' })
    expect(parseFrontMatter("to: 'app/y.ts'", 'x')).toEqual({ to: 'app/y.ts' })
  })

  it('refuses unknown keys, lines that are not key: value, and a missing to:', () => {
    expect(() => parseFrontMatter('to: a\nfrom: b', 's')).toThrow('s: unknown front-matter key "from"; the only key is "to".')
    expect(() => parseFrontMatter('to a', 's')).toThrow('s: front-matter line "to a" is not "key: value".')
    expect(() => parseFrontMatter('# nothing', 's')).toThrow('s: the front-matter needs a "to: <output path>" line.')
    expect(() => parseFrontMatter('to:', 's')).toThrow('s: the front-matter needs a "to: <output path>" line.')
  })

  it('every default stub has a front-matter naming a path inside app/ or tests/', () => {
    for (const name of defaultStubNames) {
      const { to } = parseFrontMatter(splitStub(defaultStubText(name), name).frontMatter, name)
      expect(to, name).toMatch(/^(app|tests)\/.*\{\{ path \}\}\.(test\.)?ts$/)
    }
  })
})

describe('renderStub', () => {
  const root = mkdtempSync(join(tmpdir(), 'herald-stubs-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  const name = { input: 'X', class: 'OrderShipped', camel: 'orderShipped', fileName: 'order-shipped', folder: '', path: 'order-shipped', dotted: 'order-shipped' }

  it('renders the framework default when the project has no stubs/ copy, without HTML escaping', async () => {
    const file = await renderStub(root, 'event', { ...name, queued: false, broadcast: false, channel: 'order-shipped' })
    expect(file.to).toBe('app/events/order-shipped.ts')
    expect(file.absolute).toBe(join(root, 'app/events/order-shipped.ts'))
    expect(file.content).toContain("import { Dispatchable } from 'herald'")
    expect(file.content).toContain('export class OrderShipped extends Dispatchable {')
    expect(file.content.endsWith('}\n')).toBe(true)
  })

  it('prefers the project’s stubs/ copy, which sees to, root and importPath', async () => {
    mkdirSync(join(root, 'stubs'), { recursive: true })
    writeFileSync(
      join(root, 'stubs', 'test.unit.stub'),
      "---\nto: tests/unit/deep/{{ path }}.test.ts\n---\n// {{ to }} | {{ root }} | {{ importPath 'app/events/x.ts' }}\n",
    )
    const file = await renderStub(root, 'test.unit', name)
    expect(file.content).toBe('// tests/unit/deep/order-shipped.test.ts | ../../../ | ../../../app/events/x.ts\n')
    expect(file.stub).toBe('stubs/test.unit.stub')
  })

  it('reports a project stub’s mistakes as one-line UserErrors naming the file and line', async () => {
    writeFileSync(join(root, 'stubs', 'test.stub'), '---\nto: tests/{{ path }}.ts\n---\n\n{{#if queued}\n')
    await expect(renderStub(root, 'test', name)).rejects.toThrow(
      new UserError('stubs/test.stub:5: handlebars cannot parse "{{#if queued}".'),
    )
  })
})
