import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { UserError } from '../../src/foundation/errors.ts'
import { parseEventReference } from '../../src/console/generator/event-reference.ts'
import { parseName } from '../../src/console/generator/naming.ts'
import { importSpecifier } from '../../src/console/generator/render.ts'
import { resolveTarget } from '../../src/console/generator/target-path.ts'

/** The UserError a call throws: its message must be one line. */
function refusal(call: () => unknown): string {
  try {
    call()
  } catch (error) {
    expect(error).toBeInstanceOf(UserError)
    const message = (error as Error).message
    expect(message).not.toContain('\n')
    return message
  }
  throw new Error('expected a UserError, got none')
}

describe('parseName', () => {
  it('gives OrderShipped, order-shipped and order_shipped the same class and file', () => {
    for (const input of ['OrderShipped', 'order-shipped', 'order_shipped', 'orderShipped', '  OrderShipped  ']) {
      expect(parseName(input)).toEqual({
        input: input.trim(),
        className: 'OrderShipped',
        camelName: 'orderShipped',
        fileName: 'order-shipped',
        folder: '',
        path: 'order-shipped',
        dotted: 'order-shipped',
      })
    }
  })

  it('nests Admin/UserBanned in a kebab-case folder', () => {
    expect(parseName('Admin/UserBanned')).toMatchObject({
      className: 'UserBanned',
      fileName: 'user-banned',
      folder: 'admin',
      path: 'admin/user-banned',
      dotted: 'admin.user-banned',
    })
    expect(parseName('admin_panel/sub-area/user_banned')).toMatchObject({
      className: 'UserBanned',
      folder: 'admin-panel/sub-area',
      path: 'admin-panel/sub-area/user-banned',
    })
  })

  it('keeps acronyms and digits in the class, and splits them sensibly in the file', () => {
    expect(parseName('HTTPRequestSent')).toMatchObject({ className: 'HTTPRequestSent', fileName: 'http-request-sent' })
    expect(parseName('OAuth2TokenIssued')).toMatchObject({ className: 'OAuth2TokenIssued', fileName: 'o-auth2-token-issued' })
  })

  it('drops a trailing Test word for test names only when asked', () => {
    expect(parseName('OrderFlowTest', { dropTestSuffix: true })).toMatchObject({ className: 'OrderFlow', path: 'order-flow' })
    expect(parseName('order-flow-test', { dropTestSuffix: true }).path).toBe('order-flow')
    expect(parseName('Test', { dropTestSuffix: true }).path).toBe('test')
    expect(parseName('OrderFlowTest').path).toBe('order-flow-test')
  })

  it('refuses an empty name', () => {
    expect(refusal(() => parseName(''))).toBe('Invalid name "": the name is empty; give one like OrderShipped.')
    expect(refusal(() => parseName('   '))).toContain('the name is empty')
  })

  it('refuses names that are not identifiers once normalised', () => {
    expect(refusal(() => parseName('9lives'))).toBe(
      'Invalid name "9lives": "9lives" is not an identifier; use letters and digits, starting with a letter (e.g. OrderShipped).',
    )
    expect(refusal(() => parseName('order-$hip'))).toContain('"order-$hip" is not an identifier')
    expect(refusal(() => parseName('Order Shipped'))).toContain('is not an identifier')
    expect(refusal(() => parseName('---'))).toContain('is not an identifier')
    expect(refusal(() => parseName('Order.Shipped'))).toContain('is not an identifier')
    expect(refusal(() => parseName('Admin/9x/Foo'))).toContain('"9x" is not an identifier')
  })

  it('refuses reserved words, compared with the class name lowercased', () => {
    expect(refusal(() => parseName('class'))).toBe(
      'Invalid name "class": "class" is a reserved word in TypeScript; choose a name that says what happened, e.g. OrderShipped.',
    )
    for (const input of ['Delete', 'new', 'await', 'enum', 'Interface', 'type_of', 'any', 'Object', 'admin/Default']) {
      expect(refusal(() => parseName(input))).toContain('is a reserved word')
    }
    // A reserved word inside a longer name, or as a folder, is fine.
    expect(parseName('DeleteRequested').className).toBe('DeleteRequested')
    expect(parseName('Classes').className).toBe('Classes')
    expect(parseName('new/OrderShipped').path).toBe('new/order-shipped')
  })

  it('refuses the names the generated code imports from herald', () => {
    expect(refusal(() => parseName('Listener'))).toBe(
      'Invalid name "Listener": "Listener" is a name Herald\'s generated code imports; choose another, e.g. ListenerRecorded.',
    )
    expect(refusal(() => parseName('Admin/Event'))).toContain('"Event" is a name Herald')
  })

  it('refuses absolute paths', () => {
    expect(refusal(() => parseName('/tmp/OrderShipped'))).toBe(
      'Invalid name "/tmp/OrderShipped": it is an absolute path; give a name relative to the generator\'s folder, e.g. Admin/UserBanned.',
    )
    expect(refusal(() => parseName('C:/Users/OrderShipped'))).toContain('is an absolute path')
    expect(refusal(() => parseName('~/OrderShipped'))).toContain('is an absolute path')
  })

  it('refuses . and .. segments', () => {
    expect(refusal(() => parseName('../OrderShipped'))).toBe(
      'Invalid name "../OrderShipped": "." and ".." segments are not allowed; generators only write inside app/ and tests/.',
    )
    expect(refusal(() => parseName('Admin/../../OrderShipped'))).toContain('".." segments are not allowed')
    expect(refusal(() => parseName('./OrderShipped'))).toContain('".." segments are not allowed')
  })

  it('refuses backslashes', () => {
    expect(refusal(() => parseName('Admin\\UserBanned'))).toBe(
      'Invalid name "Admin\\UserBanned": it contains a backslash; nest with "/", e.g. Admin/UserBanned.',
    )
    expect(refusal(() => parseName('..\\..\\Evil'))).toContain('backslash')
  })

  it('refuses empty path segments', () => {
    expect(refusal(() => parseName('Admin//UserBanned'))).toContain('an empty path segment')
    expect(refusal(() => parseName('Admin/'))).toContain('an empty path segment')
  })
})

describe('parseEventReference', () => {
  it('reads PascalCase (possibly nested) as a class event', () => {
    expect(parseEventReference('OrderShipped')).toMatchObject({ kind: 'class', name: { className: 'OrderShipped' } })
    expect(parseEventReference('Admin/UserBanned')).toMatchObject({ kind: 'class', name: { path: 'admin/user-banned' } })
  })

  it('reads dotted, lowercase and wildcard names as string events', () => {
    expect(parseEventReference('order.shipped')).toEqual({ kind: 'string', eventName: 'order.shipped', wildcard: false })
    expect(parseEventReference('order-shipped')).toEqual({ kind: 'string', eventName: 'order-shipped', wildcard: false })
    expect(parseEventReference('orders.*')).toEqual({ kind: 'string', eventName: 'orders.*', wildcard: true })
    expect(parseEventReference('Orders.Shipped')).toMatchObject({ kind: 'string' })
  })

  it('refuses empty names, and string events that would not be a plain string literal', () => {
    expect(refusal(() => parseEventReference(''))).toContain('The event name is empty')
    expect(refusal(() => parseEventReference("order.'shipped"))).toContain('Invalid event name "order.\'shipped"')
    expect(refusal(() => parseEventReference('order-$hip'))).toContain('string events use letters, digits')
    expect(refusal(() => parseEventReference('../Evil'))).toContain('".." segments are not allowed')
    expect(refusal(() => parseEventReference('Class'))).toContain('is a reserved word')
  })
})

describe('resolveTarget', () => {
  const root = mkdtempSync(join(tmpdir(), 'herald-target-'))
  mkdirSync(join(root, 'app', 'events'), { recursive: true })
  mkdirSync(join(root, 'elsewhere'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('accepts paths inside app/ and tests/, returning them relative with /', () => {
    expect(resolveTarget(root, 'app/events/order-shipped.ts', ['app', 'tests'], 'stubs/event.stub')).toEqual({
      relative: 'app/events/order-shipped.ts',
      absolute: join(root, 'app', 'events', 'order-shipped.ts'),
    })
    expect(resolveTarget(root, 'tests/unit/new/folder/x.test.ts', ['app', 'tests'], 'x').relative).toBe(
      'tests/unit/new/folder/x.test.ts',
    )
    expect(resolveTarget(root, 'app/events/../listeners/x.ts', ['app', 'tests'], 'x').relative).toBe('app/listeners/x.ts')
  })

  it('refuses anything resolving outside app/ and tests/', () => {
    expect(refusal(() => resolveTarget(root, 'config/x.ts', ['app', 'tests'], 'stubs/event.stub'))).toBe(
      'stubs/event.stub writes to "config/x.ts" (outside those folders); generators only write inside app/ and tests/.',
    )
    expect(refusal(() => resolveTarget(root, 'app/../../x.ts', ['app', 'tests'], 'x'))).toContain('outside those folders')
    expect(refusal(() => resolveTarget(root, 'app', ['app', 'tests'], 'x'))).toContain('outside those folders')
    expect(refusal(() => resolveTarget(root, 'application/x.ts', ['app', 'tests'], 'x'))).toContain('outside those folders')
    expect(refusal(() => resolveTarget(root, 'app/x.stub', ['stubs'], 'stub:publish'))).toContain(
      'generators only write inside stubs/',
    )
  })

  it('refuses absolute paths, backslashes and empty paths', () => {
    expect(refusal(() => resolveTarget(root, join(root, 'app/x.ts'), ['app'], 'x'))).toContain('(an absolute path)')
    expect(refusal(() => resolveTarget(root, 'app\\x.ts', ['app'], 'x'))).toContain('a path with a backslash')
    expect(refusal(() => resolveTarget(root, ' ', ['app'], 'x'))).toContain('an empty path')
  })

  it('refuses a path that a symlink inside app/ leads outside', () => {
    symlinkSync(join(root, 'elsewhere'), join(root, 'app', 'escape'), 'dir')
    expect(refusal(() => resolveTarget(root, 'app/escape/x.ts', ['app', 'tests'], 'x'))).toContain('a symlink leads outside')
    expect(refusal(() => resolveTarget(root, 'app/escape/new/x.ts', ['app', 'tests'], 'x'))).toContain(
      'a symlink leads outside',
    )
  })
})

describe('importSpecifier', () => {
  it('is relative to the importing file, with its .ts extension', () => {
    expect(importSpecifier('app/listeners/x.ts', 'app/events/order-shipped.ts')).toBe('../events/order-shipped.ts')
    expect(importSpecifier('tests/feature/listeners/admin/x.test.ts', 'app/listeners/admin/x.ts')).toBe(
      '../../../../app/listeners/admin/x.ts',
    )
    expect(importSpecifier('app/events/a.ts', 'app/events/b.ts')).toBe('./b.ts')
  })
})
