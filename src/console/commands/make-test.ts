import type { CommandHandler } from '../command.ts'
import { flag } from '../generator/command-options.ts'
import { nameContext } from '../generator/contexts.ts'
import { parseName } from '../generator/naming.ts'
import { renderStub } from '../generator/render.ts'
import { writeFiles } from '../generator/write-files.ts'

/**
 * `artisan make:test OrderFlow [--unit] [--force]`: a vitest file that passes as generated.
 * A feature test (tests/feature/) boots the application; a unit test (tests/unit/) boots
 * nothing. A trailing `Test` is dropped from the name: OrderFlowTest → order-flow.test.ts.
 */
const makeTest: CommandHandler = async ({ args, options, output, cwd }) => {
  const name = parseName(args[0] ?? '', { dropTestSuffix: true })
  const file = await renderStub(cwd, flag(options, 'unit') ? 'test.unit' : 'test', nameContext(name))
  writeFiles(cwd, [file], output, flag(options, 'force'))
  return 0
}

export default makeTest
